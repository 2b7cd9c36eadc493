"""``python -m siamfc_lib.doctor [--device auto|cpu|cuda[:i]|npu[:i]]``: check a machine end to end.

Prints the versions that matter (Python, torch, torch_npu, CANN), the visible devices, the
capability row of the chosen device, whether a one-process group of its backend starts, one
training step in each precision the device supports, a few tracked frames, and whether a
checkpoint saved on the device opens in a process without torch_npu, then a one-line verdict;
every failure comes with its fix. Exit status 0 when all checks pass. A training or tracking
step in which torch_npu ran an operator on the CPU (its "will fall back to run on the CPU"
warning) fails: such a run is correct but many times slower.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import devices
from .devices import (PRECISION_NAMES, Capabilities, Device, DeviceError, capabilities, device_count, device_name,
                      distributed_backend, resolve_device)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def cann_version() -> str:
    """CANN as the environment shows it (set_env.sh exports ASCEND_TOOLKIT_HOME)."""
    home = os.environ.get("ASCEND_TOOLKIT_HOME")
    if not home:
        return f"not found (ASCEND_TOOLKIT_HOME unset: `{devices._set_env_command()}` sets it)"
    root = Path(home)
    for info in [root / "version.cfg", *sorted(root.glob("*/ascend_toolkit_install.info"))]:
        try:
            for line in info.read_text(errors="replace").splitlines():
                if line.strip().startswith(("version=", "Version=")):
                    return f"{line.split('=', 1)[1].strip()} ({home})"
        except OSError:
            continue
    return f"version file not found ({home})"


def versions() -> list[tuple[str, str]]:
    npu = devices.torch_npu_module()
    npu_text = getattr(npu, "__version__", "installed") if npu is not None else \
        ("not installed" if not devices.torch_npu_installed() else f"cannot load ({devices._NPU_STATE['error']})")
    return [("python", f"{platform.python_version()} ({platform.machine()}, {platform.system()})"),
            ("torch", torch.__version__), ("torch_npu", str(npu_text)), ("CANN", cann_version()),
            ("autoload", f"TORCH_DEVICE_BACKEND_AUTOLOAD={os.environ.get('TORCH_DEVICE_BACKEND_AUTOLOAD', '(unset)')}")]


def visible_devices() -> list[tuple[str, str]]:
    rows = [("cpu", f"{os.cpu_count()} cores, torch uses {torch.get_num_threads()} threads")]
    if torch.cuda.is_available():
        names = [device_name(Device("cuda", i)) for i in range(device_count("cuda"))]
        rows.append(("cuda", f"{len(names)}: {', '.join(names)}"))
    else:
        rows.append(("cuda", f"none (torch {torch.__version__} {'has no CUDA' if not torch.version.cuda else 'sees no GPU'})"))
    reason = devices.npu_unavailable_reason()
    if reason:
        rows.append(("npu", f"none: {reason}"))
    else:
        names = [device_name(Device("npu", i)) for i in range(device_count("npu"))]
        rows.append(("npu", f"{len(names)}: {', '.join(names)}"))
    return rows


def describe(caps: Capabilities) -> str:
    yes = lambda v: "yes" if v else "no"  # noqa: E731
    return (f"backend {caps.backend}, channels_last {yes(caps.channels_last)}, compile {yes(caps.compile)}, "
            f"CUDA graphs {yes(caps.cuda_graphs)}, autocast {'/'.join(PRECISION_NAMES[d] for d in caps.autocast_dtypes)}, "
            f"GradScaler {caps.grad_scaler}, pinned memory {yes(caps.pin_memory)}, "
            f"non_blocking {yes(caps.non_blocking)}")


CPU_FALLBACK = "fall back to run on the CPU"
FALLBACK_FIX = ("torch_npu found no NPU kernel for these operators and ran them on the CPU: install the CANN kernels "
                "(ops) package for your chip, of the toolkit's version (Ascend-cann-kernels-<chip>_<version>_linux, "
                "named Ascend-cann-<chip>-ops_<version>_linux in recent CANN releases), then run the doctor again")


class CpuFallbackError(RuntimeError):
    """torch_npu ran operators on the CPU during a check."""


def _on_the_device(fn: Callable[[], str]) -> Callable[[], str]:
    """``fn`` failing when torch_npu warns that an operator fell back to the CPU."""
    def run() -> str:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            detail = fn()
        ops = sorted({str(w.message).split("'")[1] if "'" in str(w.message) else str(w.message)
                      for w in caught if CPU_FALLBACK in str(w.message)})
        if ops:
            raise CpuFallbackError(f"operators ran on the CPU instead of the device: {', '.join(ops)}")
        return detail
    return run


def _timed(name: str, fn: Callable[[], str], fix: str) -> Check:
    start = time.perf_counter()
    try:
        detail = fn()
    except Exception as exc:  # noqa: BLE001 - every failure is a finding
        text = f"{type(exc).__name__}: {exc}".splitlines()[0]
        fix = str(exc) if isinstance(exc, DeviceError) else FALLBACK_FIX if isinstance(exc, CpuFallbackError) else fix
        return Check(name, False, text, fix)
    return Check(name, True, f"{detail} ({time.perf_counter() - start:.1f}s)")


def process_group(device: Device) -> str:
    import torch.distributed as dist

    if dist.is_initialized():
        return "a process group is already initialised in this process: skipped"
    backend = distributed_backend(device)
    devices.set_current(device)
    with tempfile.TemporaryDirectory() as tmp:
        dist.init_process_group(backend, init_method=f"file://{Path(tmp) / 'store'}", rank=0, world_size=1)
        try:
            t = torch.ones(2, device=device.torch)
            dist.all_reduce(t)
            devices.synchronize(device)
            assert t.tolist() == [1.0, 1.0], t
        finally:
            dist.destroy_process_group()
    return f"{backend}: 1 process initialised, all_reduce ok"


def train_step(device: Device, dtype: torch.dtype | None, steps: int = 2) -> str:
    from .config import preset
    from .model import build_model
    from .training.schedule import build_optimizer
    from .training.step import TrainStep, to_network_input

    amp = PRECISION_NAMES[dtype] if dtype is not None else "none"
    torch.manual_seed(0)
    model = build_model(width=0.125).to(device.torch)
    scaling = devices.make_grad_scaler(device, amp)
    scaler = scaling.scaler
    step = TrainStep(model, build_optimizer(model, preset("paper")), device, devices.autocast_dtype(device, amp),
                     scaler, scale_update=scaling.update, static_scale=scaling.static)
    gen = torch.Generator().manual_seed(0)
    z = torch.randint(0, 255, (2, 127, 127, 3), dtype=torch.uint8, generator=gen)
    x = torch.randint(0, 255, (2, 255, 255, 3), dtype=torch.uint8, generator=gen)
    cl = devices.use_channels_last(device)
    losses = [float(step(to_network_input(z, device, cl), to_network_input(x, device, cl))) for _ in range(steps)]
    if not all(np.isfinite(losses)):
        raise FloatingPointError(f"non-finite loss {losses}")
    scaled = f", GradScaler {type(scaler).__module__}.{type(scaler).__name__}" if scaler.is_enabled() else ""
    return f"{steps} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}{scaled}"


def tracking(device: Device, frames: int = 5) -> str:
    from .bench.track import synthetic_frames
    from .config.tracking import TrackerConfig
    from .model import build_model
    from .tracking.tracker import SiamFCTracker

    torch.manual_seed(0)
    images, gts = synthetic_frames(frames, height=180, width=320)
    tracker = SiamFCTracker(build_model(width=0.125), TrackerConfig(), device)
    boxes, _ = tracker.track_frames(images, gts[0])
    if boxes.shape != (frames, 4) or not np.isfinite(boxes).all():
        raise RuntimeError(f"tracker returned {boxes.shape} boxes, finite: {np.isfinite(boxes).all()}")
    return f"{frames} frames, {tracker.crop_backend} crops, untrained weights"


_LOAD_WITHOUT_NPU = ("import sys; sys.modules['torch_npu'] = None; "
                     "from siamfc_lib.training.checkpoints import load_model_from_checkpoint; "
                     "m = load_model_from_checkpoint(sys.argv[1]); print(sum(p.numel() for p in m.parameters()))")


def portable_checkpoint(device: Device) -> str:
    """Save a checkpoint of a network on ``device`` and open it in a fresh process that cannot
    import torch_npu: what evaluating an NPU-trained model on another machine needs."""
    from .model import build_model
    from .training.checkpoints import save_checkpoint

    torch.manual_seed(0)
    model = build_model(width=0.125).to(device.torch)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_checkpoint(tmp, 0, {"model": model.state_dict(), "width": 0.125, "head_bias": True})
        env = {**os.environ, "TORCH_DEVICE_BACKEND_AUTOLOAD": "0"}
        done = subprocess.run([sys.executable, "-c", _LOAD_WITHOUT_NPU, str(path)], capture_output=True, text=True,
                              env=env, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"a checkpoint saved on {device} does not open without torch_npu: "
                           f"{(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return f"saved on {device}, opened in a process without torch_npu ({done.stdout.strip()} parameters)"


def run(spec: str = "auto", out=print) -> list[Check]:
    out("siamfc doctor")
    for name, value in versions():
        out(f"  {name:<10} {value}")
    for name, value in visible_devices():
        out(f"  {name:<10} {value}")
    checks: list[Check] = []
    try:
        device = resolve_device(spec)
    except DeviceError as exc:
        checks.append(Check(f"device {spec}", False, str(exc).splitlines()[0], str(exc)))
        return _verdict(checks, spec, out)
    devices.set_current(device)     # before anything asks the chip: no context on another card
    caps = capabilities(device)
    out(f"  {'device':<10} {device}: {describe(caps)}")
    out(f"  {'precision':<10} fp32 runs as: {devices.precision_in_effect(device, None)}")
    checks.append(_timed("process group", lambda: process_group(device),
                         "the device's collective library did not start: on NPUs source set_env.sh (HCCL), on "
                         "GPUs check the NCCL install; on any host check that a local file store is writable"))
    for dtype in (None, *caps.autocast_dtypes):
        step_check = _on_the_device(lambda d=dtype: train_step(device, d))
        checks.append(_timed(f"train step {PRECISION_NAMES[dtype]}", step_check,
                             f"use amp: {'none' if dtype is not None else 'auto'} for training on {device.kind} "
                             "and report the error above"))
    checks.append(_timed("tracking", _on_the_device(lambda: tracking(device)),
                         "tracking on this device failed: evaluate with device: cpu and report the error above"))
    checks.append(_timed("checkpoint", lambda: portable_checkpoint(device),
                         "checkpoints must hold CPU tensors (siamfc_lib.training.checkpoints.save_checkpoint): "
                         "report the error above"))
    return _verdict(checks, str(device), out)


def _verdict(checks: list[Check], device: str, out) -> list[Check]:
    for c in checks:
        out(f"  {'ok' if c.ok else 'FAIL':<4} {c.name}: {c.detail}")
    failed = [c for c in checks if not c.ok]
    if not failed:
        out(f"verdict: OK, {device} is ready for training and tracking")
    else:
        out(f"verdict: {len(failed)} check(s) failed on {device}")
        for c in failed:
            out(f"  fix ({c.name}): {c.fix}")
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.doctor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda[:i] | npu[:i] (default auto)")
    args = parser.parse_args(argv)
    checks = run(args.device)
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
