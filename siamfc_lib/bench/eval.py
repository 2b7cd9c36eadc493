"""``python -m siamfc_lib.bench eval``: one-pass evaluation throughput and metric cost.

Without ``--otb-root`` a few synthetic OTB-format sequences are written to a temporary
folder, so the benchmark measures the whole path: decode, track, write, score.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..evaluation.metrics import sequence_curves
from ..evaluation.runner import run_evaluation
from ..model import build_model
from .track import synthetic_frames


def write_synthetic_otb(root: Path, sequences: int, frames: int) -> None:
    for s in range(sequences):
        images, gts = synthetic_frames(frames, 240, 320, seed=s)
        folder = root / f"Synth{s:02d}"
        (folder / "img").mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(images):
            cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        (folder / "groundtruth_rect.txt").write_text("\n".join(",".join(f"{v:g}" for v in r) for r in gts))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench eval")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--otb-root", default=None)
    parser.add_argument("--sequences", type=int, default=3)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--baselines", nargs="*", default=["csrt", "kcf"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.otb_root) if args.otb_root else Path(tmp) / "OTB"
        if not args.otb_root:
            write_synthetic_otb(root, args.sequences, args.frames)
        torch.manual_seed(0)
        start = time.perf_counter()
        outcome = run_evaluation({"otb_root": str(root), "device": args.device, "run_dir": str(Path(tmp) / "eval"),
                                  "baselines": args.baselines, "compare_untrained": False},
                                 model=build_model(width=args.width), progress=False, log=lambda s: None)
        seconds = time.perf_counter() - start
    rng = np.random.default_rng(0)
    gt = np.column_stack([rng.uniform(0, 300, 3000), rng.uniform(0, 300, 3000), rng.uniform(5, 80, (3000, 2))])
    t = time.perf_counter()
    sequence_curves(gt + rng.normal(0, 5, gt.shape), gt)
    metric_ms = 1000 * (time.perf_counter() - t)
    frames = sum(r["frames"] for r in outcome.reports.values())
    return {"width": args.width, "seconds_total": round(seconds, 2), "frames_all_trackers": frames,
            "fps_per_tracker": {n: r["fps"] for n, r in outcome.reports.items()},
            "auc_per_tracker": {n: r["auc"] for n, r in outcome.reports.items()},
            "metric_ms_per_3000_frames": round(metric_ms, 3)}
