"""The curation manifest: which crops exist, for which track, with which boxes.

JSON (no pickle), written by :mod:`siamfc_lib.data.curate` as ``<data_path>/manifest.json``::

    {"format": "siamfc-curation/1", "instance_size": 255, "exemplar_size": 127,
     "context": 0.5, "jpeg_quality": 90, "source": "<vid_root>",
     "videos": [{"video": "ILSVRC2015_train_00005009", "subset": "train",
                 "frame_size": [W, H],
                 "tracks": [{"trackid": 0, "wnid": "n02084071",
                             "frames": [0, 1, ...],                  # frame numbers
                             "boxes": [[xmin, ymin, xmax, ymax], ...],  # VID XML corners
                             "crop_boxes": [[cx, cy, w, h], ...],    # box inside the crop
                             "occluded": [0, ...], "generated": [0, ...]}]}],
     "skipped": {"<reason>": count}}

A crop's key (file path relative to ``data_path``, also its LMDB key) is
``<video>/<frame:06d>.<trackid:02d>.x.jpg``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from ..paths import not_found

MANIFEST_NAME = "manifest.json"
FORMAT = "siamfc-curation/1"


def crop_key(video: str, frame: int, trackid: int) -> str:
    return f"{video}/{int(frame):06d}.{int(trackid):02d}.x.jpg"


@dataclass
class Track:
    trackid: int
    wnid: str
    frames: list[int]
    boxes: list[list[float]]
    crop_boxes: list[list[float]]
    occluded: list[int] = field(default_factory=list)
    generated: list[int] = field(default_factory=list)

    def keys(self, video: str) -> list[str]:
        return [crop_key(video, f, self.trackid) for f in self.frames]


@dataclass
class Video:
    video: str
    subset: str
    frame_size: list[int]
    tracks: list[Track]

    @classmethod
    def from_dict(cls, d: dict) -> "Video":
        return cls(d["video"], d["subset"], list(d["frame_size"]), [Track(**t) for t in d["tracks"]])


@dataclass
class Manifest:
    videos: list[Video]
    instance_size: int = 255
    exemplar_size: int = 127
    context: float = 0.5
    jpeg_quality: int = 90
    source: str = ""
    skipped: dict[str, int] = field(default_factory=dict)

    def keys(self) -> list[str]:
        return [k for v in self.videos for t in v.tracks for k in t.keys(v.video)]

    def num_crops(self) -> int:
        return sum(len(t.frames) for v in self.videos for t in v.tracks)

    def to_dict(self) -> dict:
        return {"format": FORMAT, **asdict(self)}

    def save(self, path: str | Path) -> None:
        from ..io_utils import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), separators=(",", ":")))

    @classmethod
    def load(cls, path: str | Path) -> "Manifest":
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_NAME
        if not path.exists():
            raise not_found("no curation manifest (is data_path the curated folder?)", path, "curation")
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: corrupt manifest ({exc}); delete it and rerun 01_curate") from exc
        if d.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} manifest (format={d.get('format')!r})")
        d.pop("format")
        d["videos"] = [Video.from_dict(v) for v in d["videos"]]
        return cls(**d)
