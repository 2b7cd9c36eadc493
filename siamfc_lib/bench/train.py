"""``python -m siamfc_lib.bench train``: training pairs/s, model step alone and end to end.

The model-only figure (synthetic device tensors: forward + backward + SGD) is the ceiling
the end-to-end figure (LMDB -> workers -> device -> step) is reported beside, per precision
and batch size, on whatever device ``--device`` resolves to.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from ..config import preset
from ..devices import (
    Device,
    autocast_dtype,
    capabilities,
    check_compile,
    device_name,
    make_grad_scaler,
    resolve_device,
    synchronize,
    uploads,
    use_channels_last,
)
from ..model import build_model
from ..training.pairs import PairSampler, pair_loader
from ..training.schedule import build_optimizer
from ..training.step import TrainStep, to_network_input, tune_backend
from .loader import add_data_args, open_pair_dataset


def _step(device: Device, precision: str, width: float, channels_last: bool, compile_: bool) -> TrainStep:
    model = build_model(width).to(device.torch)
    if use_channels_last(device, channels_last):
        model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if check_compile(device, compile_) else model
    scaling = make_grad_scaler(device, precision)
    return TrainStep(net, build_optimizer(model, preset("paper")), device, autocast_dtype(device, precision),
                     scaling.scaler, scale_update=scaling.update, static_scale=scaling.static)


def _timed(run_batches, steps: int, warmup: int, batch: int, device: Device) -> float:
    run_batches(warmup)
    synchronize(device)
    start = time.perf_counter()
    run_batches(steps)
    synchronize(device)
    return steps * batch / (time.perf_counter() - start)


def model_only(step: TrainStep, batch: int, steps: int, warmup: int, channels_last: bool) -> float:
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    z = (torch.rand(batch, 3, 127, 127, device=step.device.torch) * 255).contiguous(memory_format=fmt)
    x = (torch.rand(batch, 3, 239, 239, device=step.device.torch) * 255).contiguous(memory_format=fmt)

    def run(n: int) -> None:
        for _ in range(n):
            step(z, x)
    return _timed(run, steps, warmup, batch, step.device)


def end_to_end(step: TrainStep, dataset, batch: int, steps: int, warmup: int, workers: int,
               channels_last: bool) -> float:
    pin, non_blocking = uploads(step.device)
    loader = pair_loader(dataset, PairSampler((steps + warmup) * batch), batch, workers, pin_memory=pin,
                         pin_device=step.device.kind)
    it = iter(loader)

    def run(n: int) -> None:
        for _ in range(n):
            z, x, target_offsets = next(it)
            step(to_network_input(z, step.device, channels_last, non_blocking),
                 to_network_input(x, step.device, channels_last, non_blocking), target_offsets)
    return _timed(run, steps, warmup, batch, step.device)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench train")
    add_data_args(parser)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default=None, help="comma list of none,bf16,fp16 (default: none on CPU, where bf16 autocast is slow; all on GPUs)")
    parser.add_argument("--batch", default=None, help="comma list (default: 8 on CPU, 32,128 elsewhere)")
    parser.add_argument("--width", type=float, default=None, help="channel width (default: 0.5 on CPU, 1.0 elsewhere)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--mode", choices=("both", "model", "e2e"), default="both")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    tune_backend(device)
    cpu = device.kind == "cpu"
    precisions = (args.precision or ("none" if cpu else "none,bf16,fp16")).split(",")
    if torch.bfloat16 not in capabilities(device).autocast_dtypes:
        precisions = [p for p in precisions if p != "bf16"]
    batches = [int(b) for b in (args.batch or ("8" if cpu else "32,128")).split(",")]
    width = args.width if args.width is not None else (0.5 if cpu else 1.0)
    steps = args.steps or (6 if cpu else 40)
    warmup = args.warmup or (2 if cpu else 10)
    results = []
    with tempfile.TemporaryDirectory(prefix="siamfc-bench-") as tmp:
        dataset, source = (None, None)
        if args.mode != "model":
            dataset, source = open_pair_dataset(args, tmp, items=(steps + warmup) * max(batches))
        for precision in precisions:
            for batch in batches:
                row = {"precision": precision, "batch": batch}
                step = _step(device, precision, width, args.channels_last, args.compile)
                if args.mode != "e2e":
                    row["model_only_pairs_per_s"] = round(model_only(step, batch, steps, warmup, args.channels_last), 1)
                if args.mode != "model":
                    row["end_to_end_pairs_per_s"] = round(
                        end_to_end(step, dataset, batch, steps, warmup, args.workers, args.channels_last), 1)
                results.append(row)
                print(row, flush=True)
    return {"bench": "train", "device": str(device), "device_name": device_name(device), "width": width,
            "compile": args.compile, "channels_last": args.channels_last, "workers": args.workers,
            "steps": steps, "warmup": warmup, "source": source, "torch": torch.__version__, "results": results}
