"""``python -m siamfc_lib.bench track``: SiamFC tracking speed, end to end beside model-only.

End to end = ``update()`` per frame (crops, one 3-scale forward, bicubic upsampling, window,
peak); model-only = backbone + head on the (3, 3, 255, 255) batch. Frames are synthetic
640x360 RGB, already decoded (decoding is not part of got10k's timing either).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ..config.tracking import TrackerConfig
from ..devices import resolve_device, synchronize
from ..model import build_model
from ..tracking.tracker import SiamFCTracker


def synthetic_frames(n: int, height: int = 360, width: int = 640, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """RGB frames of an 80x60 textured patch sliding over a flat background, and its OTB boxes."""
    rng = np.random.default_rng(seed)
    patch = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    frames, gts = [], []
    for i in range(n):
        img = np.full((height, width, 3), (90, 120, 150), dtype=np.uint8)
        x, y = 10 + (3 * i) % (width - 100), 10 + i % (height - 80)
        img[y:y + 60, x:x + 80] = patch
        frames.append(img)
        gts.append([x + 1.0, y + 1.0, 80.0, 60.0])
    return frames, np.asarray(gts)


def measure(width: float, device: str, frames: int, crop_backend: str = "auto") -> dict:
    dev = resolve_device(device)
    torch.manual_seed(0)
    tracker = SiamFCTracker(build_model(width=width), TrackerConfig(), dev, crop_backend=crop_backend)
    images, gts = synthetic_frames(frames + 5)
    tracker.track_frames(images[:6], gts[0])          # warm-up
    _, times = tracker.track_frames(images, gts[0])
    steps = times[6:]
    x = torch.zeros(3, 3, 255, 255, device=dev.torch).contiguous(memory_format=tracker.memory_format)
    with torch.inference_mode():
        model_times = []
        for _ in range(max(5, frames // 2)):
            start = time.perf_counter()
            tracker.model.head(tracker.kernel, tracker.model.backbone(x))
            synchronize(dev)
            model_times.append(time.perf_counter() - start)
    return {"width": width, "device": str(dev), "crop_backend": tracker.crop_backend, "frames": int(len(steps)),
            "fps_end_to_end": round(float(np.mean(1.0 / steps)), 2),
            "step_ms_end_to_end": round(1000 * float(np.median(steps)), 3),
            "step_ms_model_only": round(1000 * float(np.median(model_times)), 3),
            "fps_model_only": round(1.0 / float(np.median(model_times)), 2)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench track")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=float, nargs="+", default=[1.0, 0.25])
    parser.add_argument("--frames", type=int, default=None, help="default: 40 on CPU, 300 on accelerators")
    parser.add_argument("--crop-backend", default="auto", choices=["auto", "warp", "grid"])
    args = parser.parse_args(argv)
    frames = args.frames or (40 if resolve_device(args.device).kind == "cpu" else 300)
    return {"torch_threads": torch.get_num_threads(),
            "runs": [measure(w, args.device, frames, args.crop_backend) for w in args.width]}
