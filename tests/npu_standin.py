"""A strict stand-in for torch_npu: tensors live on the CPU underneath, but every call the
real torch_npu rejects, and every behaviour that only a card would show, is modelled.

The NPU device is ``torch.device("cpu", i)``: tensors made or moved there are plain CPU tensors,
but the stand-in sees which calls target the NPU and remembers which storages live "on the card".

Modelled from torch_npu 2.7.1's sources:

* rejections: non-contiguous memory formats ("Only contiguous_format or preserve_format is
  supported"), autocast to a dtype the chip lacks (bf16 on 910A-class chips), torch.compile with
  the default backend, CUDA graphs, float64 tensors on the card, and ``non_blocking`` uploads from
  pageable host memory (asynchronous copies are only safe from pinned buffers);
* pickling: a tensor on the card pickles through ``torch_npu.utils.storage._rebuild_npu_tensor``
  (``Tensor.__reduce_ex__`` is torch_npu's own there), so only a process that imports torch_npu can
  load it; importing torch_npu allows that function for ``weights_only`` loads;
* the static GradScaler (``dynamic=False``) skips the inf check: overflowing steps are applied;
* a device query (``is_bf16_supported``, ``get_device_name``) before ``set_device`` initialises
  card 0 lazily (CANN before 8.3.RC1): the process then holds a context on card 0;
* the precision mode: ``set_option({"ACL_PRECISION_MODE": ...})`` and the private getter
  ``_C._npu_getOption`` (None until set), the chip's default by SoC, HF32 convolutions on by default;
* operators without an NPU kernel fall back to the CPU with a ``UserWarning`` ("... will fall back
  to run on the CPU ...") for the operators named in ``fallback_ops``.

Features the capability table turns off on NPUs are recorded as violations when the project
asks for them (pinned buffers), and so is autocast for another device type than "npu".
"""
from __future__ import annotations

import sys
import types
import warnings

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from siamfc_lib import devices

REJECT = "Only contiguous_format or preserve_format is supported"
FALLBACK = ("CAUTION: The operator '{op}' is not currently supported on the NPU backend and will fall back to run "
            "on the CPU. This may have performance implications.")
_PLAIN = (None, torch.contiguous_format, torch.preserve_format)


def _rebuild_npu_tensor(host: torch.Tensor) -> torch.Tensor:
    """What torch_npu's rebuild does for the stand-in: the tensor, back "on the card"."""
    return host


_rebuild_npu_tensor.__module__ = "torch_npu.utils.storage"     # where pickle names it, as torch_npu 2.7 does


class StrictNpu(types.ModuleType):
    def __init__(self, bf16: bool = False, count: int = 8, fallback_ops: tuple[str, ...] = ()):
        super().__init__("torch_npu")
        self.violations: list[str] = []
        self.scalers: list = []
        self.calls: list = []
        self.options: dict[str, str] = {}
        self.on_card: dict[int, object] = {}     # storage pointer -> storage (kept alive: no pointer reuse)
        self.current: int | None = None          # the card set_device made current
        self.lazy_inits: list[int] = []          # cards a query initialised before any set_device
        self.fallback_ops = tuple(fallback_ops)
        self.soc = "Ascend910B1" if bf16 else "Ascend910A"
        standin = self
        self.__version__ = "2.7.1.standin"

        class GradScaler(torch.amp.GradScaler):
            """torch_npu.npu.amp.GradScaler's signature; with ``dynamic=False`` no inf check at all."""

            def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                         growth_interval=2000, dynamic=True, enabled=True):
                super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
                self.dynamic = dynamic
                standin.scalers.append(self)

            def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
                if self.dynamic:
                    return super()._unscale_grads_(optimizer, inv_scale, found_inf, allow_fp16)
                for group in optimizer.param_groups:       # static: unscale, check nothing
                    for p in group["params"]:
                        if p.grad is not None:
                            p.grad.mul_(inv_scale.to(p.grad.dtype))
                return {found_inf.device: found_inf}

            def update(self, new_scale=None):
                if self.dynamic or new_scale is not None:
                    return super().update(new_scale)
                self._per_optimizer_states.clear()       # static: the scale never moves

        def query(answer):
            def ask(*args):
                if standin.current is None:
                    standin.lazy_inits.append(0)
                    standin.current = 0
                return answer(*args)
            return ask

        self.npu = types.SimpleNamespace(
            is_available=lambda: True, device_count=lambda: count,
            set_device=self._set_device,
            synchronize=lambda *a: self.calls.append(("synchronize",)),
            get_device_name=query(lambda i=None: f"{self.soc} (stand-in)"),
            is_bf16_supported=query(lambda: bf16),
            set_option=self._set_option,
            set_compile_mode=lambda jit_compile=True: self.calls.append(("set_compile_mode", jit_compile)),
            conv=types.SimpleNamespace(allow_hf32=bool(bf16)),
            amp=types.SimpleNamespace(GradScaler=GradScaler))
        self._C = types.SimpleNamespace(_npu_getOption=lambda name: self.options.get(name, "").encode() or None)
        self.autocast_dtypes = (torch.float16, torch.bfloat16) if bf16 else (torch.float16,)

    def _set_device(self, index: int) -> None:
        self.calls.append(("set_device", index))
        self.current = index

    def _set_option(self, options: dict) -> None:
        self.calls.append(("set_option", dict(options)))
        self.options.update({k: str(v) for k, v in options.items()})

    def reject(self, what: str, exc: type[Exception] = RuntimeError):
        self.violations.append(what)
        raise exc(f"stand-in torch_npu: {what}")

    # -- residency ---------------------------------------------------------------------------------
    def place(self, tensor: torch.Tensor) -> torch.Tensor:
        if tensor.dtype == torch.float64 and _caller_is_project():
            self.reject(f"float64 tensor on the NPU ({tuple(tensor.shape)}): NPU operators have no float64 kernels")
        storage = tensor.untyped_storage()
        self.on_card[storage.data_ptr()] = storage
        return tensor

    def host_copy(self, tensor: torch.Tensor) -> torch.Tensor:
        """A copy of ``tensor`` in host memory (the function mode would place a clone of a card tensor)."""
        copy = tensor.detach().clone()
        self.on_card.pop(copy.untyped_storage().data_ptr(), None)
        return copy

    def holds(self, tensor: torch.Tensor) -> bool:
        try:
            return tensor.untyped_storage().data_ptr() in self.on_card
        except (RuntimeError, NotImplementedError):
            return False


def is_npu(device) -> bool:
    """Whether a ``device`` argument names the stand-in's card (``cpu:i``, or an ``npu`` string)."""
    if isinstance(device, torch.device):
        return device.type == "cpu" and device.index is not None
    return isinstance(device, str) and (device.startswith("npu") or (device.startswith("cpu:")))


def _caller_is_project() -> bool:
    """Whether the call that made a tensor came from siamfc_lib itself (torch's own internals, such
    as its GradScaler's float64 reciprocal, are torch_npu's business)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "") == __name__:
        frame = frame.f_back
    return frame is not None and frame.f_globals.get("__name__", "").startswith("siamfc_lib")


def _from_project() -> bool:
    """Whether the patched call was made by siamfc_lib itself (torch's internals may differ)."""
    return sys._getframe(2).f_globals.get("__name__", "").startswith("siamfc_lib")


def install(monkeypatch, bf16: bool = False, count: int = 8, fallback_ops: tuple[str, ...] = ()) -> StrictNpu:
    """Put the stand-in in place for one test (monkeypatch undoes the patches; the ``fresh_npu_cache``
    fixture leaves the card's function mode)."""
    npu = StrictNpu(bf16, count, fallback_ops)
    storage_module = types.ModuleType("torch_npu.utils.storage")
    storage_module._rebuild_npu_tensor = _rebuild_npu_tensor
    utils_module = types.ModuleType("torch_npu.utils")
    utils_module.storage = storage_module
    npu.utils = utils_module
    monkeypatch.setitem(sys.modules, "torch_npu", npu)
    monkeypatch.setitem(sys.modules, "torch_npu.utils", utils_module)
    monkeypatch.setitem(sys.modules, "torch_npu.utils.storage", storage_module)
    devices._reset_npu_cache()
    monkeypatch.setattr(devices.Device, "torch", property(
        lambda self: torch.device("cpu", self.index or 0) if self.kind == "npu" else torch.device(self.name)))
    real_reduce = torch.Tensor.__reduce_ex__

    def reduce_ex(self, protocol):
        if npu.holds(self) and type(self) is torch.Tensor:     # torch_npu 2.7's _reduce_ex
            return _rebuild_npu_tensor, (npu.host_copy(self),)
        return real_reduce(self, protocol)

    monkeypatch.setattr(torch.Tensor, "__reduce_ex__", reduce_ex)
    _patch_features(monkeypatch, npu)
    _CardMode.enter(npu)
    return npu


def leave() -> None:
    """Leave the stand-in's function mode (after each test: conftest's ``fresh_npu_cache``)."""
    _CardMode.leave()


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)


class _CardMode(TorchFunctionMode):
    """Follows which tensors live on the card: made there, moved there, or computed from them."""

    active: "_CardMode | None" = None

    def __init__(self, npu: StrictNpu):
        super().__init__()
        self.npu = npu

    @classmethod
    def enter(cls, npu: StrictNpu) -> None:
        cls.leave()
        cls.active = cls(npu)
        cls.active.__enter__()

    @classmethod
    def leave(cls) -> None:
        if cls.active is not None:
            cls.active.__exit__(None, None, None)
            cls.active = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        npu = self.npu
        name = getattr(func, "__name__", "")
        on_card = [t for t in _tensors((args, kwargs)) if npu.holds(t)]
        if name == "__get__" and getattr(func, "__self__", None) is torch.Tensor.device and on_card:
            return torch.device("cpu", npu.current or 0)        # a card tensor says where it is
        if name in ("to", "cpu") and args and isinstance(args[0], torch.Tensor):
            return self._move(func, args, kwargs)
        out = func(*args, **kwargs)
        if on_card or is_npu(kwargs.get("device")):
            for t in _tensors(out):
                npu.place(t)
        return out

    def _move(self, func, args, kwargs):
        npu, src = self.npu, args[0]
        target = kwargs.get("device", args[1] if len(args) > 1 and not isinstance(args[1], torch.dtype) else None)
        if func.__name__ == "cpu" or (target is not None and str(target) == "cpu" and not is_npu(target)):
            out = func(*args, **kwargs)
            return npu.host_copy(out) if npu.holds(src) else out   # a copy on the host
        non_blocking = kwargs.get("non_blocking") or (len(args) > 2 and args[2] is True)
        out = func(*args, **kwargs)
        if is_npu(target):
            if non_blocking and not npu.holds(src) and not getattr(src, "_standin_pinned", False):
                npu.reject("non_blocking upload from pageable memory: only pinned buffers are safe to copy "
                           "asynchronously")
            return npu.place(out.clone() if out.untyped_storage().data_ptr() == src.untyped_storage().data_ptr()
                             else out)
        if npu.holds(src):
            npu.place(out)
        return out


def _patch_features(monkeypatch, npu: StrictNpu) -> None:
    """What the chip lacks: layouts, precisions, compile, graphs, pinned buffers; the CPU fallback warning."""
    real_contiguous, real_tensor_to, real_module_to = torch.Tensor.contiguous, torch.Tensor.to, torch.nn.Module.to
    real_empty, real_autocast, real_grid_sample = torch.empty, torch.autocast, F.grid_sample
    real_copy = torch.Tensor.copy_

    def contiguous(self, memory_format=torch.contiguous_format):
        if memory_format not in _PLAIN:
            npu.reject(f"{REJECT} (Tensor.contiguous({memory_format}))")
        return real_contiguous(self, memory_format=memory_format)

    def tensor_to(self, *args, **kwargs):
        if kwargs.get("memory_format") not in _PLAIN:
            npu.reject(f"{REJECT} (Tensor.to(memory_format={kwargs['memory_format']}))")
        return real_tensor_to(self, *args, **kwargs)

    def module_to(self, *args, **kwargs):
        if kwargs.get("memory_format") not in _PLAIN:
            npu.reject(f"{REJECT} (Module.to(memory_format={kwargs['memory_format']}))")
        out = real_module_to(self, *args, **kwargs)
        if is_npu(kwargs.get("device", args[0] if args else None)):
            for t in [*self.parameters(), *self.buffers()]:
                npu.place(t)
        return out

    def copy_(self, src, non_blocking=False):
        if non_blocking and npu.holds(self) and not npu.holds(src) and not getattr(src, "_standin_pinned", False):
            npu.reject("non_blocking copy_ from pageable memory: only pinned buffers are safe to copy asynchronously")
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

    def grid_sample(*args, **kwargs):
        if "aten::grid_sampler_2d" in npu.fallback_ops:
            warnings.warn(FALLBACK.format(op="aten::grid_sampler_2d"), UserWarning, stacklevel=2)
        return real_grid_sample(*args, **kwargs)

    # torch's function dispatch names a patched method by its own __name__: keep torch's.
    tensor_to.__name__, copy_.__name__ = "to", "copy_"
    monkeypatch.setattr(torch.Tensor, "contiguous", contiguous)
    monkeypatch.setattr(torch.Tensor, "to", tensor_to)
    monkeypatch.setattr(torch.Tensor, "copy_", copy_)
    monkeypatch.setattr(torch.nn.Module, "to", module_to)
    monkeypatch.setattr(torch, "empty", empty)
    monkeypatch.setattr(torch, "autocast", autocast)
    monkeypatch.setattr(torch, "compile", compile_)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", CUDAGraph)
    monkeypatch.setattr(F, "grid_sample", grid_sample)
