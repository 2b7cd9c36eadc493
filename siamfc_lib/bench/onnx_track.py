"""The ONNX Runtime half of ``python -m siamfc_lib.bench track``: the same seeded network exported, then
each branch and the whole tracker timed beside PyTorch's, in alternating blocks (so load from other
work hits both).

Per width: ``branches_ms`` (exemplar 1x3x127x127, search 3 scales, as the tracker calls them; median
over alternating blocks, each backend at the thread count torch uses), ``end_to_end`` (the
one-sequence CPU tracker, warp crops, on the bench's synthetic frames, the two trackers over all
frames in turn, twice; the same tracker code, only the network differs) and ``parity`` (largest
feature difference relative to the largest feature, largest box difference in px over the frames).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ..config.tracking import TrackerConfig
from ..deploy.network import load_onnx_network
from ..deploy.onnx_export import export_onnx
from ..model import build_model
from ..tracking.tracker import SiamFCTracker
from ..training.checkpoints import save_checkpoint


def _blocks_ms(fns: dict, repeats: int, rounds: int = 2) -> dict:
    """Median ms of each function, run in blocks of ``repeats`` calls, the blocks alternating for ``rounds``.

    Not call by call: in one process, torch's and ONNX Runtime's thread pools slow each other at every
    switch (measured here: 30 + 27 ms alone, 200 ms as a pair), which would charge the switch to both.
    """
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            fn()
            for _ in range(repeats):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {k: round(1000 * float(np.median(v)), 3) for k, v in times.items()}


def _networks(width: float, folder: Path, providers: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    model = build_model(width=width).eval()
    ck = save_checkpoint(folder / "run", 0, {"model": model.state_dict(), "width": width, "head_bias": True})
    export_onnx(ck, folder / "onnx")
    return model, load_onnx_network(folder / "onnx", providers)


def _branches(model, net, repeats: int) -> tuple[dict, float]:
    """Each branch as the tracker calls it (PyTorch in the tracker's layout, channels_last on CPU)."""
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(3, 3, 255, 255) * 255
    ours = SiamFCTracker(model, TrackerConfig(), "cpu").pyramid.features
    theirs = SiamFCTracker(net, TrackerConfig(), "cpu").pyramid.features
    ms = {}
    with torch.inference_mode():
        for branch, t in (("exemplar", z), ("search", x)):     # one shape at a time, the two backends in turn
            ms.update(_blocks_ms({f"torch_{branch}": lambda t=t: ours(t),
                                       f"onnxruntime_{branch}": lambda t=t: theirs(t)}, repeats))
        ref, got = model.backbone(x), net.backbone(x)
    return ms, float((got - ref).abs().max() / ref.abs().max())


def _end_to_end(model, net, images, gts, rounds: int = 2) -> tuple[dict, float]:
    """Each tracker over all frames, the two in turn for ``rounds`` (load from other work hits both)."""
    trackers = {"torch": SiamFCTracker(model, TrackerConfig(), "cpu", crop_backend="warp"),
                "onnxruntime": SiamFCTracker(net, TrackerConfig(), "cpu", crop_backend="warp")}
    steps, boxes = {name: [] for name in trackers}, {}
    for _ in range(rounds):
        for name, tracker in trackers.items():
            tracker.track_frames(images[:6], gts[0])                  # warm-up
            boxes[name], times = tracker.track_frames(images, gts[0])
            steps[name] += list(times[6:])
    out = {name: {"fps_median_step": round(1.0 / float(np.median(t)), 2),
                  "step_ms_median": round(1000 * float(np.median(t)), 3), "frames": len(t)}
           for name, t in steps.items()}
    return out, float(np.abs(boxes["torch"] - boxes["onnxruntime"]).max())


def onnx_beside_torch(width: float, images: list[np.ndarray], gts: np.ndarray, repeats: int = 10,
                      providers: str = "auto") -> dict:
    """Branches, end to end and parity of ONNX Runtime beside PyTorch for one width (CPU host path)."""
    with tempfile.TemporaryDirectory() as tmp:
        model, net = _networks(width, Path(tmp), providers)
        branches, feature_diff = _branches(model, net, repeats)
        end_to_end, box_diff = _end_to_end(model, net, images, gts)
    return {"backend": net.backend, "branches_ms": branches, "end_to_end": end_to_end,
            "parity": {"feature_max_abs_diff_relative": feature_diff, "box_max_diff_px": box_diff}}
