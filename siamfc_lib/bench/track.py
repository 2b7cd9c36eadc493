"""``python -m siamfc_lib.bench track``: SiamFC tracking speed, end to end beside model-only.

Per model width, all on synthetic 640x360 RGB frames already decoded (got10k does not time
decoding either):

* ``single``: one sequence, ``update()`` per frame; on CPU the host path ("warp") and the
  device path ("grid"), on CUDA the device path eager / CUDA graphs x fp32 / bf16;
* ``device_step_ms``: the device path's step with its inputs already on the device (graph
  replay or eager call + one synchronize);
* ``model_only``: backbone + head on a (3, 3, 255, 255) batch (fp32, and bf16 on CUDA);
* ``host_path`` (CPU): ``update()`` and the network alone on the same frame's crops, timed in
  turn frame after frame, so load from other work hits both alike; ``network_share`` is
  median network / median update (the goal is at least 0.9 at width 1.0), with the update's
  other stages timed the same way (crops, input tensor, bicubic upsampling, peak search,
  confidence, state update);
* ``batched``: :class:`~siamfc_lib.tracking.batched.BatchedSiamFC` over N sequences at once
  (total frames/s, and per sequence);
* ``onnxruntime`` (when installed; ``--no-onnx`` skips it): the same network exported, each branch
  and the one-sequence tracker beside PyTorch's, with parity (:mod:`.onnx_track`).

A variant that fails reports ``{"error": ...}`` instead of stopping the benchmark.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import time
import traceback
from typing import Callable

import numpy as np
import torch

from ..config.tracking import TrackerConfig
from ..devices import Device, device_name, resolve_device, synchronize
from ..model import build_model
from ..tracking.batched import BatchedSiamFC
from ..tracking.confidence import map_score
from ..tracking.response import host_peak, upsample_bicubic
from ..tracking.search_crops import warp_crops
from ..tracking.tracker import SiamFCTracker
from .onnx_track import onnx_beside_torch


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


def guarded(measure: Callable[[], dict]) -> dict:
    """Run one variant; an exception becomes its result instead of ending the benchmark."""
    try:
        return measure()
    except Exception as exc:  # noqa: BLE001 - report and go on with the other variants
        return {"error": f"{type(exc).__name__}: {exc}", "where": traceback.format_exc(limit=3)[-600:]}


def _median_ms(fn: Callable[[], object], dev: Device, repeats: int) -> float:
    for _ in range(3):
        fn()
    synchronize(dev)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(dev)
        times.append(time.perf_counter() - start)
    return round(1000 * float(np.median(times)), 4)


def single(width: float, dev: Device, frames: int, crop_backend: str, cuda_graphs: bool, amp: str | None) -> dict:
    torch.manual_seed(0)
    tracker = SiamFCTracker(build_model(width=width), TrackerConfig(), dev, crop_backend=crop_backend,
                            cuda_graphs=cuda_graphs, amp=amp)
    images, gts = synthetic_frames(frames + 6)
    tracker.track_frames(images[:8], gts[0])          # warm-up (and graph capture)
    _, times = tracker.track_frames(images, gts[0])
    steps = times[6:]
    out = {"fps_end_to_end": round(float(np.mean(1.0 / steps)), 2),
           "step_ms_end_to_end": round(1000 * float(np.median(steps)), 4), "frames": int(len(steps))}
    step = tracker.device_step
    if crop_backend == "grid":
        with torch.inference_mode():
            if step._graph is not None:
                out["device_step_ms"] = _median_ms(step._graph.replay, dev, 200)
            else:
                run = lambda: step.step(step.frame, step.theta, step.pad, step.kernel, with_scores=True)  # noqa: E731
                out["device_step_ms"] = _median_ms(run, dev, 50 if dev.kind != "cpu" else 5)
        out["cuda_graph_used"] = step._graph is not None
        if step.graph_error:
            out["cuda_graph_error"] = step.graph_error
    return out


def model_only(width: float, dev: Device, amp: str | None, repeats: int) -> dict:
    torch.manual_seed(0)
    tracker = SiamFCTracker(build_model(width=width), TrackerConfig(), dev, amp=amp)
    images, gts = synthetic_frames(1)
    tracker.init(images[0], gts[0])
    x = torch.zeros(3, 3, 255, 255, device=dev.torch)     # PyramidStep.features picks the layout
    with torch.inference_mode():
        ms = _median_ms(lambda: tracker.model.head(tracker.kernel, tracker.pyramid.features(x)), dev, repeats)
    return {"step_ms": ms, "fps": round(1000.0 / ms, 2)}


def _host_stages(tracker: SiamFCTracker, frame: np.ndarray) -> dict[str, float]:
    """The CPU update's stages, each timed (seconds), on a copy of the state: what ``update`` does."""
    cfg, state = tracker.cfg, tracker.state
    sides = state.search_side * tracker.scales
    marks = [time.perf_counter()]
    crops = warp_crops(frame, *state.centre, sides, cfg.geometry.instance_size, state.pad_color)
    marks.append(time.perf_counter())
    x = tracker._to_input(crops)
    marks.append(time.perf_counter())
    raw = tracker.model.head(tracker.kernel, tracker.pyramid.features(x))
    marks.append(time.perf_counter())
    up = upsample_bicubic(raw, cfg.response_up).cpu().numpy()
    marks.append(time.perf_counter())
    best, _, row, col = host_peak(up, tracker.window, cfg.scale_penalty, cfg.window_influence)
    marks.append(time.perf_counter())
    map_score(raw[best].numpy())
    marks.append(time.perf_counter())
    type(state)(**vars(state)).move(best, row, col, sides, tracker.scales, cfg)
    marks.append(time.perf_counter())
    names = ("crops", "input_tensor", "network", "upsample", "peak_search", "confidence", "state_update")
    return {name: marks[i + 1] - marks[i] for i, name in enumerate(names)}


def host_path(width: float, frames: int) -> dict:
    """CPU ``update()`` against the network alone, interleaved frame by frame (see the module doc)."""
    torch.manual_seed(0)
    tracker = SiamFCTracker(build_model(width=width), TrackerConfig(), "cpu", crop_backend="warp")
    images, gts = synthetic_frames(frames + 6)
    tracker.track_frames(images[:8], gts[0])          # warm-up
    tracker.init(images[0], gts[0])
    updates, stages = [], []
    with torch.inference_mode():
        for image in images[1:]:
            stages.append(_host_stages(tracker, image))
            start = time.perf_counter()
            tracker.update(image)
            updates.append(time.perf_counter() - start)
    updates, stages = updates[5:], stages[5:]
    median = {k: round(1000 * float(np.median([s[k] for s in stages])), 3) for k in stages[0]}
    update_ms = 1000 * float(np.median(updates))
    return {"frames": len(updates), "update_ms": round(update_ms, 3), "network_ms": median["network"],
            "network_share": round(median["network"] / update_ms, 3),
            "outside_network_ms": round(update_ms - median["network"], 3), "stages_ms": median}


def batched(width: float, dev: Device, sequences: int, frames: int, amp: str | None) -> dict:
    torch.manual_seed(0)
    tracker = BatchedSiamFC(build_model(width=width), TrackerConfig(), dev, batch_size=sequences, amp=amp)
    images, gts = synthetic_frames(frames + sequences)
    jobs = [(images[s:s + frames], gts[s]) for s in range(sequences)]   # shared frames, staggered starts
    list(tracker.track_many(jobs[: min(2, sequences)]))                 # warm-up
    start = time.perf_counter()
    per_sequence = [float(np.sum(t[1:])) for _, _, t in tracker.track_many(jobs)]
    seconds = time.perf_counter() - start
    total = sequences * frames
    return {"sequences": sequences, "frames_per_sequence": frames, "fps_total": round(total / seconds, 1),
            "fps_per_sequence_recorded": round(float(np.mean([(frames - 1) / t for t in per_sequence])), 1),
            "seconds": round(seconds, 3)}


def measure(width: float, dev: Device, frames: int, batch_sizes: list[int], batch_frames: int,
            onnx: bool = False) -> dict:
    cuda = dev.kind == "cuda"
    if cuda:
        variants = {f"{mode}_{prec}": ("grid", mode == "graphs", None if prec == "fp32" else "bf16")
                    for prec in ("fp32", "bf16") for mode in ("eager", "graphs")}
    else:
        variants = {"warp_fp32": ("warp", False, None), "grid_fp32": ("grid", False, None)}
    runs = {name: guarded(lambda v=v: single(width, dev, frames, *v)) for name, v in variants.items()}
    repeats = 100 if dev.kind != "cpu" else 10
    precisions = ("fp32", "bf16") if cuda else ("fp32",)
    model = {p: guarded(lambda p=p: model_only(width, dev, None if p == "fp32" else "bf16", repeats))
             for p in precisions}
    batch = {str(b): guarded(lambda b=b: batched(width, dev, b, batch_frames, "bf16" if cuda else None))
             for b in batch_sizes}
    default = runs["graphs_fp32" if cuda else "warp_fp32"]
    out = {"width": width, "fps_end_to_end": default.get("fps_end_to_end"), "single": runs,
           "model_only": model, "batched_bf16" if cuda else "batched_fp32": batch}
    if dev.kind == "cpu":
        out["host_path"] = guarded(lambda: host_path(width, frames))
    if onnx:
        images, gts = synthetic_frames(frames + 6)
        out["onnxruntime"] = guarded(lambda: onnx_beside_torch(width, images, gts, repeats))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench track")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=float, nargs="+", default=[1.0, 0.25])
    parser.add_argument("--frames", type=int, default=None, help="default: 40 on CPU, 300 on accelerators")
    parser.add_argument("--batch", type=int, nargs="*", default=None, help="default: 4 on CPU, 16 64 on CUDA")
    parser.add_argument("--batch-frames", type=int, default=None, help="default: 8 on CPU, 100 on CUDA")
    parser.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime backend (default: when installed)")
    args = parser.parse_args(argv)
    dev = resolve_device(args.device)
    cpu = dev.kind == "cpu"
    if dev.kind == "cuda":
        torch.backends.cudnn.benchmark = True
    frames = args.frames or (40 if cpu else 300)
    batch_sizes = args.batch if args.batch is not None else ([4] if cpu else [16, 64])
    batch_frames = args.batch_frames or (8 if cpu else 100)
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    onnx = not args.no_onnx and importlib.util.find_spec("onnxruntime") is not None
    runs = [measure(w, dev, frames, batch_sizes, batch_frames, onnx) for w in args.width]
    return {"device": str(dev), "device_name": device_name(dev), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "load_average_before_after": [load_before, os.getloadavg()[0]],
            "runs": runs, "seconds": round(time.perf_counter() - start, 1)}
