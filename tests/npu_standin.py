"""A strict stand-in for torch_npu: tensors live on the CPU underneath, but every call the
real torch_npu rejects, and every feature the capability table says an NPU lacks, is
recorded as a violation (and raises, where torch_npu raises).

Rejections mirrored: non-contiguous memory formats ("Only contiguous_format or
preserve_format is supported"), autocast to a dtype the chip lacks (bf16 on 910A-class
chips), torch.compile with the default backend, CUDA graphs. Features the table turns off
on NPUs are recorded too when the project asks for them (pinned buffers, non_blocking
uploads; torch's own GradScaler moves its scale with non_blocking=True), and so is autocast for
another device type than "npu" (code that asked a torch.device instead of the table).
"""
from __future__ import annotations

import sys
import types

import torch

from siamfc_lib import devices

REJECT = "Only contiguous_format or preserve_format is supported"
_PLAIN = (None, torch.contiguous_format, torch.preserve_format)


class StrictNpu(types.ModuleType):
    def __init__(self, bf16: bool = False, count: int = 8):
        super().__init__("torch_npu")
        self.violations: list[str] = []
        self.scalers: list = []
        self.calls: list = []
        standin = self

        class GradScaler(torch.amp.GradScaler):
            """torch_npu.npu.amp.GradScaler's signature (no device argument; ``dynamic``)."""

            def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                         growth_interval=2000, dynamic=True, enabled=True):
                super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
                self.dynamic = dynamic
                standin.scalers.append(self)

        self.npu = types.SimpleNamespace(
            is_available=lambda: True, device_count=lambda: count,
            set_device=lambda i: self.calls.append(("set_device", i)),
            synchronize=lambda *a: self.calls.append(("synchronize",)),
            get_device_name=lambda i=None: "Ascend910A (stand-in)",
            is_bf16_supported=lambda: bf16,
            amp=types.SimpleNamespace(GradScaler=GradScaler))
        self.autocast_dtypes = (torch.float16, torch.bfloat16) if bf16 else (torch.float16,)

    def reject(self, what: str, exc: type[Exception] = RuntimeError):
        self.violations.append(what)
        raise exc(f"stand-in torch_npu: {what}")


def _from_project() -> bool:
    """Whether the patched call was made by siamfc_lib itself (torch's internals may differ)."""
    return sys._getframe(2).f_globals.get("__name__", "").startswith("siamfc_lib")


def install(monkeypatch, bf16: bool = False, count: int = 8) -> StrictNpu:
    """Put the stand-in in place for one test (monkeypatch undoes every patch)."""
    npu = StrictNpu(bf16, count)
    monkeypatch.setitem(sys.modules, "torch_npu", npu)
    devices._reset_npu_cache()
    monkeypatch.setattr(devices.Device, "torch", property(
        lambda self: torch.device("cpu") if self.kind == "npu" else torch.device(self.name)))

    real_contiguous, real_tensor_to, real_module_to = torch.Tensor.contiguous, torch.Tensor.to, torch.nn.Module.to
    real_copy, real_empty, real_autocast = torch.Tensor.copy_, torch.empty, torch.autocast

    def contiguous(self, memory_format=torch.contiguous_format):
        if memory_format not in _PLAIN:
            npu.reject(f"{REJECT} (Tensor.contiguous({memory_format}))")
        return real_contiguous(self, memory_format=memory_format)

    def tensor_to(self, *args, **kwargs):
        if kwargs.get("memory_format") not in _PLAIN:
            npu.reject(f"{REJECT} (Tensor.to(memory_format={kwargs['memory_format']}))")
        if (kwargs.get("non_blocking") or (len(args) > 1 and args[1] is True)) and _from_project():
            npu.violations.append("non_blocking upload (the table says NPU uploads block)")
        return real_tensor_to(self, *args, **kwargs)

    def module_to(self, *args, **kwargs):
        if kwargs.get("memory_format") not in _PLAIN:
            npu.reject(f"{REJECT} (Module.to(memory_format={kwargs['memory_format']}))")
        return real_module_to(self, *args, **kwargs)

    def copy_(self, src, non_blocking=False):
        if non_blocking and _from_project():
            npu.violations.append("non_blocking copy_ (the table says NPU uploads block)")
        return real_copy(self, src, non_blocking)

    def empty(*args, **kwargs):
        if kwargs.get("pin_memory") and _from_project():
            npu.violations.append("pinned host buffer (the table says no pinned memory on NPU)")
        return real_empty(*args, **kwargs)

    def autocast(device_type, dtype=None, enabled=True, cache_enabled=None):
        if enabled and device_type != "npu":
            npu.violations.append(f"autocast for {device_type!r} while running on the NPU")
        if enabled and dtype not in npu.autocast_dtypes:
            npu.reject(f"autocast dtype {dtype} is not supported on this chip")
        return real_autocast("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    def compile_(*args, **kwargs):
        npu.reject("torch.compile needs Ascend's torchair backend")

    class CUDAGraph:
        def __init__(self, *a, **k):
            npu.reject("CUDA graphs do not exist on NPU")

    monkeypatch.setattr(torch.Tensor, "contiguous", contiguous)
    monkeypatch.setattr(torch.Tensor, "to", tensor_to)
    monkeypatch.setattr(torch.Tensor, "copy_", copy_)
    monkeypatch.setattr(torch.nn.Module, "to", module_to)
    monkeypatch.setattr(torch, "empty", empty)
    monkeypatch.setattr(torch, "autocast", autocast)
    monkeypatch.setattr(torch, "compile", compile_)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", CUDAGraph)
    return npu
