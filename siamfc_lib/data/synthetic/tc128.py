"""Write a TColor128-format tree: ``<Seq>/img/0001.jpg``, ``<Seq>_gt.txt`` and ``<Seq>_frames.txt``.

The layout is the one :mod:`siamfc_lib.data.benchmarks.tc128` documents. On purpose: one sequence
whose annotated range starts after its first images and ends before its last (``_frames.txt``
``4,N``), one annotated from image 1; the ``_ce`` suffix of TColor128's colour-enhanced names.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from ... import boxes
from ...config.data import SyntheticConfig
from .clips import ClipSpec, clip_frames, render_clip, save_jpeg, workers_for
from .workers import map_in_order

CLIPS = (ClipSpec("Ball_ce1", 0), ClipSpec("Basketball", 0))
LEAD = {"Ball_ce1": 3}          # images before the annotated range
TRAIL = {"Ball_ce1": 2}         # images after it


def write_sequence(root: Path, cfg: SyntheticConfig, spec: ClipSpec) -> dict:
    lead, trail = LEAD.get(spec.name, 0), TRAIL.get(spec.name, 0)
    spec = replace(spec, frames=clip_frames(cfg, "tc128", spec.name) + lead + trail)
    folder = root / spec.name
    (folder / "img").mkdir(parents=True, exist_ok=True)
    rows, n_bytes = [], 0
    for t, (image, truth) in enumerate(render_clip(cfg, "tc128", spec)):
        n_bytes += save_jpeg(folder / "img" / f"{t + 1:04d}.jpg", image, cfg.jpeg_quality)
        if lead <= t < spec.frames - trail:
            rows.append(",".join(f"{v:.0f}" for v in np.rint(boxes.cxcywh_to_otb(truth.full))))
    first = lead + 1
    (folder / f"{spec.name}_gt.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / f"{spec.name}_frames.txt").write_text(f"{first},{first + len(rows) - 1}\n", encoding="utf-8")
    return {"name": spec.name, "images": spec.frames, "annotated": len(rows), "first": first, "bytes": n_bytes}


def write_tc128_tree(root: Path, cfg: SyntheticConfig, log=print) -> dict:
    done = list(map_in_order(partial(write_sequence, root, cfg), CLIPS, workers_for(cfg, len(CLIPS))))
    log(f"[synthetic TColor128] {len(done)} sequences")
    return {"sequences": len(done), "frames": sum(d["annotated"] for d in done), "bytes": sum(d["bytes"] for d in done)}
