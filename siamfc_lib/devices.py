"""Device layer: CPU, CUDA GPUs and Ascend NPUs behind one small interface.

torch_npu is optional. It is imported in exactly one place (:func:`torch_npu_module`), behind
a guard that catches every exception, because the PyPI wheel fails to import without
Ascend's CANN toolkit. When the user asks for ``npu`` and the import failed, the error
says why.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

import torch

_NPU_STATE: dict[str, Any] = {}
_SPEC = re.compile(r"^(auto|cpu|cuda|npu)(?::(\d+))?$")


class DeviceError(RuntimeError):
    """A device that was asked for and cannot be used."""


def torch_npu_module():
    """The imported ``torch_npu`` module, or None; the failure reason is kept for messages."""
    if "module" not in _NPU_STATE:
        try:
            _NPU_STATE["module"] = importlib.import_module("torch_npu")
            _NPU_STATE["error"] = None
        except BaseException as exc:  # noqa: BLE001 - any failure means "no NPU"
            if isinstance(exc, KeyboardInterrupt):
                raise
            _NPU_STATE["module"] = None
            _NPU_STATE["error"] = f"{type(exc).__name__}: {exc}"
    return _NPU_STATE["module"]


def npu_unavailable_reason() -> str | None:
    """Why NPUs cannot be used, or None when they can."""
    mod = torch_npu_module()
    if mod is None:
        return (
            "torch_npu could not be imported "
            f"({_NPU_STATE['error']}). Install Ascend's CANN toolkit and the torch_npu build "
            "matching your torch (see environment-ascend.yml), then `source set_env.sh`."
        )
    try:
        if not mod.npu.is_available():
            return "torch_npu is installed but reports no available NPU (check npu-smi info)."
    except Exception as exc:  # noqa: BLE001
        return f"torch_npu is installed but failed to query NPUs: {exc}"
    return None


def _reset_npu_cache() -> None:
    """Forget the cached import result (tests swap stand-in modules)."""
    _NPU_STATE.clear()


@dataclass(frozen=True)
class Device:
    """A resolved device: ``kind`` in {cpu, cuda, npu} and an index (None for cpu)."""

    kind: str
    index: int | None = None

    @property
    def name(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"

    @property
    def torch(self) -> torch.device:
        if self.kind == "npu":
            torch_npu_module()  # registers the "npu" device type with torch
        return torch.device(self.name)

    def __str__(self) -> str:
        return self.name


def device_count(kind: str) -> int:
    if kind == "cpu":
        return 1
    if kind == "cuda":
        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    if kind == "npu":
        return 0 if npu_unavailable_reason() else int(torch_npu_module().npu.device_count())
    raise DeviceError(f"unknown device kind {kind!r}")


def resolve_device(spec: str = "auto", local_rank: int | None = None) -> Device:
    """Turn ``auto | cpu | cuda[:i] | npu[:i]`` into a usable :class:`Device`.

    ``auto`` prefers an NPU, then CUDA, then the CPU. ``local_rank`` picks the device of a
    distributed rank when no index is given.
    """
    match = _SPEC.match(str(spec).strip().lower())
    if not match:
        raise DeviceError(f"device {spec!r} is not one of: auto, cpu, cuda[:i], npu[:i]")
    kind, index = match.group(1), match.group(2)
    if kind == "auto":
        if npu_unavailable_reason() is None:
            kind = "npu"
        elif torch.cuda.is_available():
            kind = "cuda"
        else:
            kind = "cpu"
    if kind == "cpu":
        return Device("cpu")
    if kind == "npu":
        reason = npu_unavailable_reason()
        if reason:
            raise DeviceError(f"device {spec!r} requested but {reason}")
    elif not torch.cuda.is_available():
        raise DeviceError(f"device {spec!r} requested but CUDA is not available in this torch build "
                          f"({torch.__version__}); install a CUDA torch (see README) or use device='cpu'")
    count = device_count(kind)
    idx = int(index) if index is not None else (local_rank or 0)
    if idx >= count:
        raise DeviceError(f"device {kind}:{idx} requested but only {count} {kind} device(s) exist")
    return Device(kind, idx)


def set_current(device: Device) -> None:
    """Make ``device`` the current one (needed before NCCL/HCCL initialisation)."""
    if device.kind == "cuda":
        torch.cuda.set_device(device.index)
    elif device.kind == "npu":
        torch_npu_module().npu.set_device(device.index)


def distributed_backend(device: Device) -> str:
    return {"cpu": "gloo", "cuda": "nccl", "npu": "hccl"}[device.kind]


def autocast_dtype(device: Device, amp: str = "auto") -> torch.dtype | None:
    """The autocast dtype for ``amp`` (auto | none | bf16 | fp16) on ``device``; None: fp32.

    ``auto`` is fp32 on CPU (exact and reproducible), bf16 on CUDA GPUs that support it,
    fp16 on NPUs (the seed's mixed precision) and older GPUs.
    """
    if amp == "none":
        return None
    if amp == "bf16":
        return torch.bfloat16
    if amp == "fp16":
        return torch.float16
    if amp != "auto":
        raise DeviceError(f"amp must be auto, none, bf16 or fp16, got {amp!r}")
    if device.kind == "cpu":
        return None
    if device.kind == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float16


def needs_grad_scaler(device: Device, amp: str = "auto") -> bool:
    """fp16 gradients underflow without loss scaling; bf16 and fp32 do not need it."""
    return autocast_dtype(device, amp) == torch.float16


def synchronize(device: Device) -> None:
    """Wait for queued work (timing must not measure only the launch)."""
    if device.kind == "cuda":
        torch.cuda.synchronize(device.index)
    elif device.kind == "npu":
        torch_npu_module().npu.synchronize()
