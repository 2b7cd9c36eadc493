"""Curation throughput: crops/s with one worker (per-worker rate) and with ``--workers``."""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from ..config import CurateConfig
from ..data.curate import curate
from ..data.vid_sample import write_vid_sample


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench curate", description=__doc__)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--objects", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--jpeg-quality", type=int, default=90)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="siamfc-bench-curate-") as tmp:
        vid = write_vid_sample(Path(tmp) / "vid", args.videos, args.frames, (args.width, args.height), args.objects)
        runs = {}
        for workers in sorted({1, args.workers}):
            cfg = CurateConfig(vid_root=str(vid), data_path=str(Path(tmp) / f"cur{workers}"), workers=workers,
                               jpeg_quality=args.jpeg_quality)
            runs[workers] = curate(cfg, progress=False, log=lambda *_: None)
    one, many = runs[1], runs[max(runs)]
    return {
        "frames": args.videos * args.frames, "frame_size": [args.width, args.height], "crops": one["crops"],
        "crops_per_s_per_worker": one["crops_per_s"], "workers": many["workers"],
        "crops_per_s_total": many["crops_per_s"], "mean_crop_kB": round(one["bytes"] / one["crops"] / 1e3, 1),
        "cpu_count": os.cpu_count(),
    }
