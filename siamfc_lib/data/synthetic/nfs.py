"""Write an NfS-format tree: ``<seq>/30/<seq>.txt`` with VATIC rows and ``<seq>/30/<seq>/00001.jpg``.

The layout is the one :mod:`siamfc_lib.data.benchmarks.nfs` documents. On purpose: a sequence
whose 30 fps annotation file holds the 240 fps rows (8 per frame, interpolated between frames,
plus the row of the 240 fps frame after the last), so the protocol keeps every 8th row and cuts
the one left over; one with a row per frame and one row too many; ``240/<seq>.txt`` beside them
(the 240 fps frames are not written: the 30 fps protocol never reads them).
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from ... import boxes
from ...config.data import SyntheticConfig
from ..benchmarks.nfs import FPS_RATIO
from .clips import ClipSpec, clip_frames, render_clip, save_jpeg, workers_for
from .workers import map_in_order

CLIPS = (ClipSpec("Gymnastics", 0, wnid="person"), ClipSpec("bee", 0, wnid="bee"))
ROWS_AT_240 = ("Gymnastics",)


def vatic_row(frame: int, corners: np.ndarray, label: str) -> str:
    """track id, left, top, right, bottom, frame, lost, occluded, generated, "label"."""
    left, top, right, bottom = (int(v) for v in np.rint(corners))
    return f'1 {left} {top} {right} {bottom} {frame} 0 0 0 "{label}"'


def corner_rows(full: list[np.ndarray], step: int) -> list[np.ndarray]:
    """Left, top, right, bottom (right = left + w) per row; ``step`` rows per frame interpolate linearly."""
    corners = [boxes.xywh_to_corner_rows(boxes.cxcywh_to_otb(b)) for b in full]
    rows = []
    for t, c in enumerate(corners):
        after = corners[min(t + 1, len(corners) - 1)]
        rows += [c + (after - c) * k / step for k in range(step)]
    return rows + [corners[-1]]          # one row more than frames: the off-by-one the protocol cuts


def write_sequence(root: Path, cfg: SyntheticConfig, spec: ClipSpec) -> dict:
    spec = replace(spec, frames=clip_frames(cfg, "nfs", spec.name))
    folder = root / spec.name / "30" / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    full, n_bytes = [], 0
    for t, (image, truth) in enumerate(render_clip(cfg, "nfs", spec)):
        n_bytes += save_jpeg(folder / f"{t + 1:05d}.jpg", image, cfg.jpeg_quality)
        full.append(truth.full)
    step = FPS_RATIO if spec.name in ROWS_AT_240 else 1
    rows = [vatic_row(i + 1, c, spec.wnid) for i, c in enumerate(corner_rows(full, step))]
    (root / spec.name / "30" / f"{spec.name}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rows_240 = [vatic_row(i + 1, c, spec.wnid) for i, c in enumerate(corner_rows(full, FPS_RATIO))]
    (root / spec.name / "240").mkdir(parents=True, exist_ok=True)
    (root / spec.name / "240" / f"{spec.name}.txt").write_text("\n".join(rows_240) + "\n", encoding="utf-8")
    return {"name": spec.name, "frames": len(full), "rows": len(rows), "bytes": n_bytes}


def write_nfs_tree(root: Path, cfg: SyntheticConfig, log=print) -> dict:
    done = list(map_in_order(partial(write_sequence, root, cfg), CLIPS, workers_for(cfg, len(CLIPS))))
    log(f"[synthetic NfS] {len(done)} sequences")
    return {"sequences": len(done), "frames": sum(d["frames"] for d in done), "rows": sum(d["rows"] for d in done),
            "bytes": sum(d["bytes"] for d in done)}
