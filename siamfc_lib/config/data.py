"""Configuration of the data stage: embedded dataset, curation, LMDB packing."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SyntheticConfig:
    """Size of the embedded ILSVRC2015-VID and OTB2015 look-alike datasets."""
    seed: int = 2016
    vid_train_videos: int = 24
    vid_val_videos: int = 6
    vid_frames: int = 40               # frames per snippet (each snippet varies around this)
    vid_frame_size: tuple[int, int] = (320, 240)   # width, height
    otb_frames: int = 60               # frames per OTB-format sequence (varies around this)
    otb_frame_size: tuple[int, int] = (320, 240)
    jpeg_quality: int = 90


@dataclass
class CurateConfig:
    """ILSVRC2015-VID -> 255x255 instance crops (see siamfc_lib.data.curate)."""
    vid_root: str = "data/ILSVRC2015"
    data_path: str = "data/ILSVRC_VID_CURATION"
    workers: int = 4
    jpeg_quality: int = 90
    subsets: tuple[str, ...] = ("train", "val")
    min_box_size: float = 1.0          # drop boxes narrower/shorter than this (pixels)
    max_aspect: float = 0.0            # drop boxes with w/h or h/w above this (0: keep all)
    skip_generated: bool = False       # drop interpolated (generated=1) boxes


@dataclass
class LmdbConfig:
    data_path: str = "data/ILSVRC_VID_CURATION"
    lmdb_path: str | None = None       # default: data_path + ".lmdb" (the seed's rule)
    commit_every: int = 2000           # puts per write transaction
    initial_map_size: int = 1 << 28    # bytes; grows on MapFullError

    def resolved_lmdb_path(self) -> str:
        return self.lmdb_path or self.data_path.rstrip("/\\") + ".lmdb"
