"""``python -m siamfc_lib.bench eval``: one-pass evaluation throughput and what it means for OTB2015.

Without ``--otb-root`` a few synthetic OTB-format sequences are written to a temporary
folder, so the benchmark measures the whole path: decode, track, write, score.

Reported for the device it ran on (JSON ``device``):

* ``run_evaluation``: 05's own call (SiamFC of ``--width`` + baselines), its fps per tracker;
* ``throughput``: frames/s (all frames tracked / wall time, decoding included) for one sequence
  at a time, for N sequences batched, and for the sweep (K networks x N sequences), at the
  paper's width (``--paper-width``);
* ``projection_paper_05``: wall time of the paper-profile 05 on OTB2015's real frame count
  (about 59,000 frames, 100 targets): 6 distinct networks (untrained, epochs 10-40, last =
  epoch 50, which is tracked once) at the measured sweep rate, plus CSRT and KCF at their
  measured one-core rates, one process per core.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..cores import usable_cores
from ..data.otb import OTBDataset
from ..devices import resolve_device
from ..evaluation.evaluate import run_evaluation
from ..evaluation.metrics import sequence_curves
from ..model import build_model
from ..tracking.frames import FramePool
from .track import synthetic_frames

OTB2015_FRAMES = 59_000        # about: 100 targets of OTB2015 (got10k convention)
PAPER_NETWORKS = 6             # untrained, e10, e20, e30, e40, last (= e50, tracked once)


def write_synthetic_otb(root: Path, sequences: int, frames: int) -> None:
    for s in range(sequences):
        images, gts = synthetic_frames(frames, 240, 320, seed=s)
        folder = root / f"Synth{s:02d}"
        (folder / "img").mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(images):
            cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        (folder / "groundtruth_rect.txt").write_text("\n".join(",".join(f"{v:g}" for v in r) for r in gts))


def _networks(k: int, width: float) -> dict[str, torch.nn.Module]:
    nets = {}
    for i in range(k):
        torch.manual_seed(i)
        nets[f"net{i}"] = build_model(width=width).eval()
    return nets


def measure_throughput(root: Path, device, width: float, batch: int, models: int, decode_workers: int) -> dict:
    """Frames/s: one sequence at a time, N sequences batched, K networks x N sequences."""
    from ..tracking.batched import MultiSiamFC
    from ..tracking.tracker import SiamFCTracker

    sequences = list(OTBDataset(root))
    frames = sum(len(s) for s in sequences)
    nets = _networks(models, width)
    first = next(iter(nets.values()))
    out: dict = {"width": width, "sequences": len(sequences), "frames_per_network": frames}

    tracker = SiamFCTracker(first, device=device)
    tracker.track_frames(sequences[0].img_files[:3], sequences[0].gt[0])          # warm-up
    start = time.perf_counter()
    for s in sequences:
        tracker.track_frames(s.img_files, s.gt[0])
    out["one_sequence_fps"] = round(frames / (time.perf_counter() - start), 2)

    def engine_fps(names: list[str]) -> float:
        with FramePool(decode_workers, host_compute=torch.device(device).type == "cpu") as pool:
            engine = MultiSiamFC({n: nets[n] for n in names}, device=device, batch_size=batch, frame_pool=pool)
            list(engine.track([(s.img_files[:3], s.gt[0], names[:1]) for s in sequences[:1]]))   # warm-up
            start = time.perf_counter()
            for _ in engine.track([(s.img_files, s.gt[0], names) for s in sequences]):
                pass
            return round(frames * len(names) / (time.perf_counter() - start), 2)

    out["batched"] = {"sequences_in_lockstep": min(batch, len(sequences)), "fps": engine_fps(list(nets)[:1])}
    out["sweep"] = {"networks": models, "sequences_in_lockstep": min(batch, len(sequences)),
                    "fps": engine_fps(list(nets))}
    return out


def project_paper(throughput: dict, baseline_fps: dict[str, float], cores: int) -> dict:
    siamfc_s = PAPER_NETWORKS * OTB2015_FRAMES / throughput["sweep"]["fps"]
    base_s = sum(OTB2015_FRAMES / fps for fps in baseline_fps.values() if fps > 0) / max(1, cores)
    return {"otb2015_frames": OTB2015_FRAMES, "distinct_networks": PAPER_NETWORKS,
            "siamfc_minutes": round(siamfc_s / 60, 1),
            "baselines_minutes": round(base_s / 60, 1) if baseline_fps else None,
            "total_minutes": round((siamfc_s + base_s) / 60, 1),
            "basis": (f"sweep rate of {throughput['sweep']['networks']} networks of width {throughput['width']} "
                      f"over {throughput['sequences']} synthetic 320x240 sequences; baselines "
                      f"{sorted(baseline_fps)} at their one-core fps, {cores} processes. OTB2015 frames are "
                      "larger on average (decode and baselines slower), the network cost is the same")}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench eval")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=float, default=0.25, help="SiamFC width of the run_evaluation section")
    parser.add_argument("--paper-width", type=float, default=1.0, help="width of the throughput section")
    parser.add_argument("--otb-root", default=None)
    parser.add_argument("--sequences", type=int, default=3)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--batch", type=int, default=16, help="sequences tracked in lockstep")
    parser.add_argument("--models", type=int, default=PAPER_NETWORKS, help="networks in the sweep measurement")
    parser.add_argument("--decode-workers", type=int, default=-1)
    parser.add_argument("--baselines", nargs="*", default=["csrt", "kcf"])
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.otb_root) if args.otb_root else Path(tmp) / "OTB"
        if not args.otb_root:
            write_synthetic_otb(root, args.sequences, args.frames)
        torch.manual_seed(0)
        start = time.perf_counter()
        outcome = run_evaluation({"otb_root": str(root), "device": args.device, "run_dir": str(Path(tmp) / "eval"),
                                  "baselines": args.baselines, "compare_untrained": False,
                                  "batch_sequences": args.batch, "decode_workers": args.decode_workers},
                                 model=build_model(width=args.width), progress=False, log=lambda s: None)
        seconds = time.perf_counter() - start
        throughput = measure_throughput(root, device.torch, args.paper_width, args.batch, args.models,
                                        args.decode_workers)
    rng = np.random.default_rng(0)
    gt = np.column_stack([rng.uniform(0, 300, 3000), rng.uniform(0, 300, 3000), rng.uniform(5, 80, (3000, 2))])
    t = time.perf_counter()
    sequence_curves(gt + rng.normal(0, 5, gt.shape), gt)
    metric_ms = 1000 * (time.perf_counter() - t)
    frames = sum(r["frames"] for r in outcome.reports.values())
    fps = {n: r["fps"] for n, r in outcome.reports.items()}
    baseline_fps = {n: f for n, f in fps.items() if not n.startswith("SiamFC")}
    unmeasured = [] if device.kind != "cpu" else [
        "accelerator figures (grid crops and peak search on the device, CUDA graphs, bf16): no GPU/NPU here; "
        "run this command on one to measure them"]
    return {"device": str(device), "cores": usable_cores(), "width": args.width, "seconds_total": round(seconds, 2),
            "frames_all_trackers": frames, "fps_per_tracker": fps,
            "auc_per_tracker": {n: r["auc"] for n, r in outcome.reports.items()},
            "metric_ms_per_3000_frames": round(metric_ms, 3),
            "throughput": throughput,
            "projection_paper_05": project_paper(throughput, baseline_fps, usable_cores()),
            "unmeasured": unmeasured}
