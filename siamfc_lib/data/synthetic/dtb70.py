"""Write a DTB70-format tree: ``<Seq>/img/00001.jpg`` and ``<Seq>/groundtruth_rect.txt``.

The layout is the one :mod:`siamfc_lib.data.benchmarks.dtb70` documents: 5-digit frame names,
every frame annotated, boxes with decimals, a grey sequence among colour ones.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

from ... import boxes
from ...config.data import SyntheticConfig
from .clips import ClipSpec, clip_frames, render_clip, save_jpeg, workers_for
from .workers import map_in_order

CLIPS = (ClipSpec("Animal1", 0), ClipSpec("BMX2", 0, grey=True))


def write_sequence(root: Path, cfg: SyntheticConfig, spec: ClipSpec) -> dict:
    spec = replace(spec, frames=clip_frames(cfg, "dtb70", spec.name))
    folder = root / spec.name
    (folder / "img").mkdir(parents=True, exist_ok=True)
    rows, n_bytes = [], 0
    for t, (image, truth) in enumerate(render_clip(cfg, "dtb70", spec)):
        n_bytes += save_jpeg(folder / "img" / f"{t + 1:05d}.jpg", image, cfg.jpeg_quality)
        rows.append(",".join(f"{v:.6f}" for v in boxes.cxcywh_to_otb(truth.full)))
    (folder / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return {"name": spec.name, "frames": len(rows), "bytes": n_bytes}


def write_dtb70_tree(root: Path, cfg: SyntheticConfig, log=print) -> dict:
    done = list(map_in_order(partial(write_sequence, root, cfg), CLIPS, workers_for(cfg, len(CLIPS))))
    log(f"[synthetic DTB70] {len(done)} sequences")
    return {"sequences": len(done), "frames": sum(d["frames"] for d in done), "bytes": sum(d["bytes"] for d in done)}
