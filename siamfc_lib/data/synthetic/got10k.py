"""Write a GOT-10k-format tree: train, val and test splits with their labels and quirks.

The layout and files are those :mod:`siamfc_lib.data.benchmarks.got10k` documents. On purpose:
a val and a train clip whose target leaves the view (``absence`` 1, ``cover`` 0; its box stays the
last one seen), one hidden by an occluder while in view (``cover`` 0, ``absence`` 0), one riding
the image border (``cut_by_image`` 1), boxes with 4 decimals as GOT-10k writes them, a
``list.txt`` without a final newline, and a test split whose ``groundtruth.txt`` holds only the
first box and no labels at all.
"""
from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import numpy as np

from ... import boxes
from ...config.data import SyntheticConfig
from ..benchmarks.got10k import COVER_LEVELS
from .clips import ClipSpec, FrameTruth, clip_frames, render_clip, save_jpeg, touches_border, workers_for
from .workers import map_in_order

SCENARIOS = ("plain", "leave", "hide", "edge")
CLASSES = ("pika", "dogsled", "scooter", "cougar", "kayak", "tractor")
FIXED = {"val": 4, "test": 2}


def sequence_name(subset: str, index: int) -> str:
    return f"GOT-10k_{subset.capitalize()}_{index:06d}"


def clip_spec(cfg: SyntheticConfig, subset: str, index: int) -> ClipSpec:
    name = sequence_name(subset, index)
    scenario = SCENARIOS[(index - 1) % len(SCENARIOS)]
    return ClipSpec(name, clip_frames(cfg, "got10k", name), leave=(0.35, 0.75) if scenario == "leave" else None,
                    hide=(0.3, 0.75) if scenario == "hide" else None, edge=scenario == "edge",
                    wnid=CLASSES[index % len(CLASSES)])


def cover_level(truth: FrameTruth) -> int:
    """0 where nothing of the target shows, else its visible fraction in eighths, rounded up."""
    if truth.full is None or truth.visible < 0.02:
        return 0
    return int(min(COVER_LEVELS, max(1, math.ceil(truth.visible * COVER_LEVELS))))


def meta_info(spec: ClipSpec, size: tuple[int, int]) -> str:
    return ("[METAINFO]\nurl: synthetic://siamfc_lib\nbegin: 00:00:00\nend: 00:00:10\nanno_fps: 10Hz\n"
            f"object_class: {spec.wnid}\nmotion_class: wandering\nmajor_class: synthetic\nroot_class: object\n"
            f"motion_adverb: slowly\nresolution: ({size[0]}, {size[1]})\n")


def write_sequence(root: Path, cfg: SyntheticConfig, job: tuple[str, int]) -> dict:
    subset, index = job
    spec = clip_spec(cfg, subset, index)
    folder = root / subset / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    rows, labels, size, n_bytes, last = [], {"absence": [], "cover": [], "cut_by_image": []}, (0, 0), 0, None
    for t, (image, truth) in enumerate(render_clip(cfg, "got10k", spec)):
        n_bytes += save_jpeg(folder / f"{t + 1:08d}.jpg", image, cfg.jpeg_quality)
        size = truth.size
        if truth.full is not None:
            last = boxes.cxcywh_to_otb(truth.full)
        if last is None:
            raise RuntimeError(f"{spec.name}: the target is out of view in the first frame")
        rows.append(",".join(f"{v:.4f}" for v in last))
        labels["absence"].append(int(truth.full is None))
        labels["cover"].append(cover_level(truth))
        labels["cut_by_image"].append(int(truth.full is not None and touches_border(truth.full, truth.size)))
    hidden = subset == "test"
    (folder / "groundtruth.txt").write_text("\n".join(rows[:1] if hidden else rows) + "\n", encoding="utf-8")
    if not hidden:
        for name, values in labels.items():
            (folder / f"{name}.label").write_text("".join(f"{v}\n" for v in values), encoding="utf-8")
        (folder / "meta_info.ini").write_text(meta_info(spec, size), encoding="utf-8")
    return {"subset": subset, "name": spec.name, "frames": len(rows), "bytes": n_bytes,
            "absent": int(sum(labels["absence"])), "cover_0": int(np.sum(np.asarray(labels["cover"]) == 0)),
            "cut_by_image": int(sum(labels["cut_by_image"]))}


def write_got10k_tree(root: Path, cfg: SyntheticConfig, log=print) -> dict:
    sizes = {"train": cfg.got10k_train_videos, **FIXED}
    jobs = [(subset, i) for subset, n in sizes.items() for i in range(1, n + 1)]
    done = list(map_in_order(partial(write_sequence, root, cfg), jobs, workers_for(cfg, len(jobs))))
    for subset, n in sizes.items():
        (root / subset).mkdir(parents=True, exist_ok=True)
        (root / subset / "list.txt").write_text("\n".join(sequence_name(subset, i) for i in range(1, n + 1)),
                                                encoding="utf-8")
    log(f"[synthetic GOT-10k] {len(done)} sequences ({sizes})")
    return {"sequences": dict(sizes), "frames": sum(d["frames"] for d in done), "bytes": sum(d["bytes"] for d in done),
            "absent_frames": sum(d["absent"] for d in done), "cover_0_frames": sum(d["cover_0"] for d in done),
            "cut_by_image_frames": sum(d["cut_by_image"] for d in done)}
