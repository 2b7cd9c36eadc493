"""The GOT-10k-shaped tree and counts-only curation that ``bench scale --source got10k`` measures.

GOT-10k's train split: 9,335 videos (the toolkit's ``train/list.txt``) of about 150 frames each,
1.4 million frames in all (the paper: over 10,000 videos and 1.5 million boxes across its three
splits), one target per video, frames at 10 fps. Lengths here are log-normal around that mean;
each video's target is absent (``absence`` 1) on a random 0-10 % stretch, like the real labels,
so curation skips frames as it does on the real split.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .tree_frames import striped_jpeg

REAL = (9335, 1_400_000)        # train videos, frames (approximate: the paper's totals, its split sizes)
SIZE = (64, 48)                 # tiny frames: the bench measures bookkeeping and data movement, not decoding


def got10k_layout(fraction: float, seed: int = 0) -> list[dict]:
    """Videos: name, subset, frame count, and the one track ``(0, first, last)`` of frames where it is present."""
    rng = np.random.default_rng(seed)
    videos, frames = REAL
    n = max(1, int(round(videos * fraction)))
    sigma = 0.6
    lengths = np.clip(np.round(rng.lognormal(np.log(frames / videos) - sigma ** 2 / 2, sigma, n)), 6, 2000).astype(int)
    out = []
    for i, length in enumerate(lengths):
        gap = int(length * rng.uniform(0.0, 0.1))
        first = int(rng.integers(0, gap + 1))
        out.append({"name": f"GOT-10k_Train_{i + 1:06d}", "subset": "got10k-train", "frames": int(length),
                    "tracks": [(0, first, first + length - gap - 1)]})
    return out


def _box(frame: int) -> list[float]:
    return [5.0 + frame % 20, 3.0 + frame % 16, 14.0, 11.0]


def _labels(v: dict) -> dict[str, list[int]]:
    _, first, last = v["tracks"][0]
    present = [int(first <= f <= last) for f in range(v["frames"])]
    return {"absence": [1 - p for p in present], "cover": [8 * p for p in present], "cut_by_image": [0] * v["frames"]}


def write_layout_tree(root: Path, layout: list[dict]) -> None:
    """Frames, ``groundtruth.txt``, the three labels and ``meta_info.ini`` per video, and ``list.txt``."""

    train = root / "train"
    for k, v in enumerate(layout):
        folder = train / v["name"]
        folder.mkdir(parents=True, exist_ok=True)
        jpeg = striped_jpeg(SIZE, (41 * k) % 256, 3)
        for f in range(v["frames"]):
            (folder / f"{f + 1:08d}.jpg").write_bytes(jpeg)
        (folder / "groundtruth.txt").write_text("".join(",".join(f"{c:.4f}" for c in _box(f)) + "\n"
                                                        for f in range(v["frames"])))
        for name, values in _labels(v).items():
            (folder / f"{name}.label").write_text("".join(f"{x}\n" for x in values))
        (folder / "meta_info.ini").write_text(f"[METAINFO]\nobject_class: thing\nresolution: ({SIZE[0]}, {SIZE[1]})\n")
    (train / "list.txt").write_text("\n".join(v["name"] for v in layout))


def write_counts_only(got10k_root: Path, data_path: Path, layout: list[dict], cfg) -> tuple[int, bytes]:
    """``list.txt`` plus finished curation records, as a completed 01 leaves them, without images;
    returns the crop count and the one (flat) crop JPEG every key will hold."""
    import cv2

    from ..data.curate import record_path, settings_fingerprint

    (got10k_root / "train").mkdir(parents=True, exist_ok=True)
    (got10k_root / "train" / "list.txt").write_text("\n".join(v["name"] for v in layout))
    settings = settings_fingerprint(cfg)
    crop = cv2.imencode(".jpg", np.full((cfg.instance_size, cfg.instance_size, 3), 90, np.uint8))[1].tobytes()
    (data_path / ".records").mkdir(parents=True, exist_ok=True)
    total = 0
    for v in layout:
        _, first, last = v["tracks"][0]
        frames = list(range(first, last + 1))
        track = {"trackid": 0, "wnid": "thing", "frames": frames, "boxes": [[5.0, 3.0, 18.0, 13.0]] * len(frames),
                 "crop_boxes": [[127.0, 127.0, 63.5, 50.25]] * len(frames), "occluded": [0] * len(frames),
                 "generated": [0] * len(frames)}
        total += len(frames)
        record = {"settings": settings, "video": {"video": v["name"], "subset": v["subset"], "frame_size": list(SIZE),
                                                  "tracks": [track]},
                  "skipped": {"box.absent": v["frames"] - len(frames)}, "problems": [], "crops": len(frames),
                  "bytes": len(frames) * len(crop), "seconds": 0.0, "name": v["name"]}
        record_path(data_path, v["name"]).write_text(json.dumps(record, sort_keys=True))
    return total, crop
