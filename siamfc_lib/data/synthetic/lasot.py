"""Write a LaSOT-format tree: per-class folders of ``<class>-<k>`` sequences with their flag files.

The layout is the one :mod:`siamfc_lib.data.benchmarks.lasot` documents. Names are real test-split
names (the reader keeps Protocol II's 280 only), plus one training-split sequence that the reader
must leave out. On purpose: a clip whose target leaves the view (``out_of_view`` 1, and the
"random box" LaSOT's publisher puts there: ``1,1,-1,-1``), one fully hidden by an occluder while
in view (``full_occlusion`` 1, its whole box still annotated), flags on ONE comma-separated line.
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

OUT_OF_VIEW_BOX = "1,1,-1,-1"     # what LaSOT writes where the target is not annotated
FULLY_HIDDEN = 0.05               # visible fraction under which a frame is flagged full_occlusion
CLIPS = (
    ClipSpec("airplane-1", 0, leave=(0.35, 0.75), wnid="airplane"),
    ClipSpec("airplane-9", 0, hide=(0.3, 0.75), wnid="airplane"),
    ClipSpec("bird-2", 0, wnid="bird"),
    ClipSpec("airplane-2", 0, wnid="airplane"),        # training split: not a Protocol II sequence
)


def write_sequence(root: Path, cfg: SyntheticConfig, spec: ClipSpec) -> dict:
    spec = replace(spec, frames=clip_frames(cfg, "lasot", spec.name))
    folder = root / spec.wnid / spec.name
    (folder / "img").mkdir(parents=True, exist_ok=True)
    rows, hidden, out, n_bytes = [], [], [], 0
    for t, (image, truth) in enumerate(render_clip(cfg, "lasot", spec)):
        n_bytes += save_jpeg(folder / "img" / f"{t + 1:08d}.jpg", image, cfg.jpeg_quality)
        out.append(int(truth.full is None))
        hidden.append(int(truth.full is not None and truth.visible < FULLY_HIDDEN))
        rows.append(OUT_OF_VIEW_BOX if truth.full is None
                    else ",".join(str(int(v)) for v in np.rint(boxes.cxcywh_to_otb(truth.full))))
    files = {"groundtruth.txt": "\n".join(rows) + "\n", "full_occlusion.txt": ",".join(map(str, hidden)),
             "out_of_view.txt": ",".join(map(str, out)), "nlp.txt": f"the {spec.wnid} moving over a photograph\n"}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return {"name": spec.name, "frames": len(rows), "bytes": n_bytes, "out_of_view": sum(out),
            "full_occlusion": sum(hidden)}


def write_lasot_tree(root: Path, cfg: SyntheticConfig, log=print) -> dict:
    done = list(map_in_order(partial(write_sequence, root, cfg), CLIPS, workers_for(cfg, len(CLIPS))))
    log(f"[synthetic LaSOT] {len(done)} sequences")
    return {"sequences": len(done), "frames": sum(d["frames"] for d in done), "bytes": sum(d["bytes"] for d in done),
            "out_of_view_frames": sum(d["out_of_view"] for d in done),
            "full_occlusion_frames": sum(d["full_occlusion"] for d in done)}
