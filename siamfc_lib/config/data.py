"""Configuration of the data stage: embedded dataset, curation, LMDB packing."""
from __future__ import annotations

from dataclasses import dataclass


OTB_SEQUENCES_ALL: tuple[str, ...] = (
    "Jogging", "Human4", "Board", "BlurCar3", "Football1", "David", "Tiger1",
    "Synth01", "Synth02", "Synth03", "Synth04",
)


@dataclass
class SyntheticConfig:
    """Size and look of the embedded ILSVRC2015-VID and OTB2015 look-alike datasets (and of the other
    benchmarks' look-alikes, whose clips are ``otb_frames`` long at ``otb_frame_size``).

    Defaults are the ``demo`` size; :data:`SYNTHETIC_PRESETS` holds ``smoke``, ``demo`` and ``gpu``.
    Every value is part of the generated trees' fingerprint: change one and
    ``ensure_embedded_datasets`` regenerates the tree.
    """
    seed: int = 2016
    vid_train_videos: int = 96
    vid_val_videos: int = 16
    vid_frames: int = 50               # mean frames per snippet (each varies by +-25 %)
    vid_frame_size: tuple[int, int] = (320, 240)   # width, height (some snippets are 16:9)
    vid_max_objects: int = 3           # annotated tracks per snippet, at most
    vid_lookalike_prob: float = 0.5    # chance a snippet also shows 1-2 unannotated look-alikes of one track
    otb_sequences: tuple[str, ...] = OTB_SEQUENCES_ALL   # real OTB names get that sequence's quirk
    otb_frames: int = 60               # mean annotated frames per sequence (varies by +-30 %)
    otb_frame_size: tuple[int, int] = (320, 240)
    jpeg_quality: int = 90
    got10k_train_videos: int = 24      # videos of the GOT-10k look-alike's train split (val and test: fixed)

    @classmethod
    def preset(cls, name: str, **overrides) -> "SyntheticConfig":
        """``smoke`` (seconds, CI), ``demo`` (the embedded default) or ``gpu``, with optional overrides."""
        from .core import build   # typed and strict: a YAML list becomes a tuple, a wrong name is an error

        if name not in SYNTHETIC_PRESETS:
            raise ValueError(f"unknown synthetic preset {name!r}; known: {', '.join(SYNTHETIC_PRESETS)}")
        return build(cls, {**SYNTHETIC_PRESETS[name], **overrides})


SYNTHETIC_PRESETS: dict[str, dict] = {
    "smoke": dict(vid_train_videos=3, vid_val_videos=1, vid_frames=10, vid_frame_size=(160, 120),
                  vid_max_objects=2, otb_frames=12, otb_frame_size=(160, 120), got10k_train_videos=4),
    "demo": dict(),
    "gpu": dict(vid_train_videos=512, vid_val_videos=64),   # for the full-width gpu profile
}


@dataclass
class CurateConfig:
    """ILSVRC2015-VID and/or GOT-10k train -> 255x255 instance crops (see siamfc_lib.data.curate).

    The box filters default to keeping everything, as both SiamFC curations did (their size and
    border filters are commented out): the manifest keeps every box so the training sampler can
    filter later without re-curating. ``min_track_frames`` 2 matches got10k and SiamFC, since a
    pair needs two frames.
    """
    vid_root: str = "data/ILSVRC2015"
    data_path: str = "data/ILSVRC_VID_CURATION"
    source: str = "vid"                # vid | got10k | both: ILSVRC2015-VID, GOT-10k's train split, or both
    got10k_root: str = "data/GOT-10k"  # GOT-10k's folder (train/, val/, test/); only its train split is curated
    workers: int | None = None         # None or 0: the cores this process may use
    jpeg_quality: int = 90
    subsets: tuple[str, ...] = ("train", "val")   # of ILSVRC2015-VID
    context: float = 0.5               # SiamFC context margin, fraction of (w + h)
    exemplar_size: int = 127           # s_x = s_z * instance_size / exemplar_size
    instance_size: int = 255           # side of the curated x crop
    min_box_size: float = 1.0          # drop boxes narrower/shorter than this (pixels)
    max_aspect: float = 0.0            # drop boxes with w/h or h/w above this (0: keep all)
    skip_generated: bool = False       # drop interpolated (generated=1) boxes
    skip_outside: bool = True          # drop boxes that do not overlap the frame at all
    min_track_frames: int = 2          # drop tracks with fewer valid frames (no pair possible)


@dataclass
class LmdbConfig:
    """Curated folder -> one LMDB (see siamfc_lib.data.lmdb_pack)."""
    data_path: str = "data/ILSVRC_VID_CURATION"
    lmdb_path: str | None = None       # default: data_path + ".lmdb" (the seed's rule)
    commit_every: int = 2000           # puts per write transaction
    commit_bytes: int = 64 << 20       # ... or this many value bytes, whichever comes first
    initial_map_size: int | None = None   # bytes; None: from the manifest's byte count; grows if full
    verify_samples: int = 32           # crops decoded and compared with their files at the end
    read_threads: int | None = None    # threads reading crop files; None: 4 per core, at most 32
    sync_bytes: int = 1 << 30          # fsync the database after this many bytes (and at the end)
    keep_folder: bool = False          # False: delete the crop files once the LMDB is verified

    def resolved_lmdb_path(self) -> str:
        return self.lmdb_path or self.data_path.rstrip("/\\") + ".lmdb"
