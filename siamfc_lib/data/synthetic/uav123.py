"""Write a UAV123-format tree: ``anno/UAV123``, ``anno/UAV20L`` and one shared ``data_seq`` folder.

The layout is the one :mod:`siamfc_lib.data.benchmarks.uav123` documents. On purpose: ``bird1``
cut into the real table's three pieces, each starting at its real frame (1, 775, 1573) in the one
``data_seq/UAV123/bird1`` folder, with unannotated images between them; a piece whose target
leaves the view (``NaN,NaN,NaN,NaN`` rows); ``bike1`` annotated whole in both UAV123 and UAV20L.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from ... import boxes
from ...config.data import SyntheticConfig
from ..benchmarks.uav123 import SUB_SEQUENCES
from .clips import ClipSpec, clip_frames, render_clip, save_jpeg, workers_for
from .workers import map_in_order

NAN_ROW = "NaN,NaN,NaN,NaN"
GAP = 2                    # unannotated images written after each piece of a cut folder
CLIPS = (ClipSpec("bike1", 0), ClipSpec("bird1_1", 0), ClipSpec("bird1_2", 0, leave=(0.35, 0.75)),
         ClipSpec("bird1_3", 0, grey=True))
UAV20L = ("bike1",)


def write_piece(root: Path, cfg: SyntheticConfig, spec: ClipSpec) -> dict:
    spec = replace(spec, frames=clip_frames(cfg, "uav123", spec.name))
    folder, start = SUB_SEQUENCES.get(spec.name, (spec.name, 1))
    images = root / "data_seq" / "UAV123" / folder
    images.mkdir(parents=True, exist_ok=True)
    rows, n_bytes, image = [], 0, None
    for t, (image, truth) in enumerate(render_clip(cfg, "uav123", spec)):
        n_bytes += save_jpeg(images / f"{start + t:06d}.jpg", image, cfg.jpeg_quality)
        rows.append(NAN_ROW if truth.full is None
                    else ",".join(str(int(v)) for v in np.rint(boxes.cxcywh_to_otb(truth.full))))
    if folder != spec.name:          # frames between the pieces exist in the real folder, unannotated
        for k in range(GAP):
            n_bytes += save_jpeg(images / f"{start + len(rows) + k:06d}.jpg", image, cfg.jpeg_quality)
    text = "\n".join(rows) + "\n"
    (root / "anno" / "UAV123").mkdir(parents=True, exist_ok=True)
    (root / "anno" / "UAV123" / f"{spec.name}.txt").write_text(text, encoding="utf-8")
    if spec.name in UAV20L:
        (root / "anno" / "UAV20L").mkdir(parents=True, exist_ok=True)
        (root / "anno" / "UAV20L" / f"{spec.name}.txt").write_text(text, encoding="utf-8")
    return {"name": spec.name, "folder": folder, "first_frame": start, "frames": len(rows), "bytes": n_bytes,
            "nan_rows": rows.count(NAN_ROW)}


def write_uav123_tree(root: Path, cfg: SyntheticConfig, log=print) -> dict:
    done = list(map_in_order(partial(write_piece, root, cfg), CLIPS, workers_for(cfg, len(CLIPS))))
    log(f"[synthetic UAV123] {len(done)} sequences in {len({d['folder'] for d in done})} folders")
    return {"sequences": len(done), "uav20l": len(UAV20L), "frames": sum(d["frames"] for d in done),
            "bytes": sum(d["bytes"] for d in done), "nan_rows": sum(d["nan_rows"] for d in done)}
