"""Device layer: CPU, CUDA GPUs and Ascend NPUs behind one small interface.

torch_npu is optional. It is imported in exactly one place (:func:`torch_npu_module`), behind
a guard that catches every exception, because the PyPI wheel fails to import without
Ascend's CANN toolkit. When the user asks for ``npu`` and the import failed, the error
says why; ``auto`` then falls back to CUDA or the CPU with a visible warning.

:func:`capabilities` is the one table of what each device type can do (memory formats,
compile, CUDA graphs, autocast dtypes, GradScaler, pinned memory, non-blocking copies,
backend); the trainer, the trackers and the benchmarks ask it instead of testing names.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import warnings
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

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


def npu_import_error() -> str | None:
    """Why ``import torch_npu`` failed in this process (None when it loaded)."""
    torch_npu_module()
    return _NPU_STATE["error"]


CANN_SET_ENV = "source /usr/local/Ascend/ascend-toolkit/set_env.sh"


def _set_env_command() -> str:
    """The ``source .../set_env.sh`` line for this machine (ASCEND_TOOLKIT_HOME when set)."""
    home = os.environ.get("ASCEND_TOOLKIT_HOME")
    if home:
        return f"source {os.path.join(os.path.dirname(home.rstrip('/')), 'set_env.sh')}"
    return CANN_SET_ENV


def torch_npu_installed() -> bool:
    """Whether a torch_npu distribution is on the path (whether or not it can load)."""
    try:
        return importlib.util.find_spec("torch_npu") is not None
    except (ImportError, ValueError):
        return True   # present in sys.modules as a failed import


def _base_version(version: str) -> str:
    """``2.7.1+cpu`` and ``2.7.1.post2`` -> ``2.7.1``."""
    return ".".join(re.split(r"[+]", version)[0].split(".")[:3])


def torch_pair_mismatch() -> str | None:
    """A message when the installed torch is not the one the installed torch-npu was built for."""
    from importlib import metadata

    try:
        npu_version = metadata.version("torch-npu")
    except metadata.PackageNotFoundError:
        return None
    if _base_version(npu_version) == _base_version(torch.__version__):
        return None
    return (f"torch {torch.__version__} is installed beside torch-npu {npu_version}, which is built for torch "
            f"{_base_version(npu_version)} only: reinstall the pair, e.g. `make venv TORCH_SPEC=\"torch=="
            f"{_base_version(npu_version)} torch-npu=={npu_version}\"` (x86-64: `torch=={_base_version(npu_version)}+cpu` "
            "with TORCH_INDEX=https://download.pytorch.org/whl/cpu)")


def npu_unavailable_reason() -> str | None:
    """Why NPUs cannot be used, or None when they can."""
    mod = torch_npu_module()
    if mod is None:
        error = _NPU_STATE["error"]
        mismatch = torch_pair_mismatch() if torch_npu_installed() else None
        if mismatch:
            return f"torch_npu cannot load ({error}): {mismatch}."
        if not torch_npu_installed() or error.startswith("ModuleNotFoundError: No module named 'torch_npu'"):
            return (f"torch_npu is not installed ({error}). Install Ascend's CANN toolkit and the torch_npu "
                    "build matching your torch (docs/install-and-ascend.md; environment-ascend.yml), then "
                    f"`{_set_env_command()}`.")
        return (f"torch_npu is installed but cannot load ({error}): the CANN toolkit is missing or its "
                f"environment is not sourced in this shell. Run `{_set_env_command()}` (the path of your "
                "CANN install) before starting Python or Jupyter, then check the machine with "
                "`python -m siamfc_lib.doctor --device npu`.")
    try:
        if not mod.npu.is_available():
            return "torch_npu is installed but reports no available NPU (check `npu-smi info` and ASCEND_RT_VISIBLE_DEVICES)."
    except Exception as exc:  # noqa: BLE001
        return f"torch_npu is installed but failed to query NPUs: {exc}"
    return None


def _reset_npu_cache() -> None:
    """Forget the cached import result and capabilities (tests swap stand-in modules)."""
    _NPU_STATE.clear()
    _CAPS_CACHE.clear()


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
    distributed rank when no index is given; a single process on an NPU takes the card of
    ``ASCEND_DEVICE_ID`` (or ``DEVICE_ID``), as the seed's 1p script sets it.
    """
    match = _SPEC.match(str(spec).strip().lower())
    if not match:
        raise DeviceError(f"device {spec!r} is not one of: auto, cpu, cuda[:i], npu[:i]")
    kind, index = match.group(1), match.group(2)
    if kind == "auto":
        reason = npu_unavailable_reason()
        if reason is None:
            kind = "npu"
        else:
            kind = "cuda" if torch.cuda.is_available() else "cpu"
            if torch_npu_installed():   # the user meant to use an NPU: say loudly why not
                warnings.warn(f"device 'auto' falls back to {kind}: {reason}", RuntimeWarning, stacklevel=2)
    if kind == "cpu":
        return Device("cpu")
    if kind == "npu":
        reason = npu_unavailable_reason()
        if reason:
            raise DeviceError(f"device {spec!r} requested but {reason}")
    elif not torch.cuda.is_available():
        raise DeviceError(f"device {spec!r} requested but CUDA is not available in this torch build "
                          f"({torch.__version__}); install a CUDA torch (docs/install-and-ascend.md) or use device='cpu'")
    count = device_count(kind)
    idx = int(index) if index is not None else local_rank if local_rank is not None else _default_index(kind)
    if idx >= count:
        raise DeviceError(f"device {kind}:{idx} requested but only {count} {kind} device(s) exist")
    return Device(kind, idx)


def _default_index(kind: str) -> int:
    if kind == "npu":
        value = os.environ.get("ASCEND_DEVICE_ID", os.environ.get("DEVICE_ID", "0"))
        try:
            return int(value)
        except ValueError:
            raise DeviceError(f"ASCEND_DEVICE_ID={value!r} is not a card number: set it to 0..7") from None
    return 0


def set_current(device: Device) -> None:
    """Make ``device`` the current one: before NCCL/HCCL start, and before anything asks the chip
    what it can do (torch_npu's first query otherwise opens a context on card 0)."""
    if device.kind == "cuda":
        torch.cuda.set_device(device.index)
    elif device.kind == "npu":
        torch_npu_module().npu.set_device(device.index)


@dataclass(frozen=True)
class Capabilities:
    """What one device type can do; the only place that knows it."""

    kind: str
    backend: str                                  # torch.distributed backend
    channels_last: bool                           # non-contiguous memory formats accepted
    compile: bool                                 # torch.compile with its default (inductor) backend
    cuda_graphs: bool
    autocast_dtypes: tuple[torch.dtype, ...]      # what torch.autocast(kind, dtype) accepts here
    grad_scaler: str                              # "torch.amp" or "torch_npu" (torch_npu.npu.amp.GradScaler)
    pin_memory: bool                              # page-locked host buffers for uploads
    non_blocking: bool                            # host->device copies may be asynchronous
    cudnn_benchmark: bool = False
    crop_backend: str = "grid"                    # tracking crops: "grid" (grid_sample on the device) or
                                                  # "warp" (OpenCV on the host, where the frame already is)


_TABLE = {
    "cpu": Capabilities("cpu", "gloo", channels_last=True, compile=True, cuda_graphs=False,
                        autocast_dtypes=(torch.bfloat16, torch.float16), grad_scaler="torch.amp",
                        pin_memory=False, non_blocking=False, crop_backend="warp"),
    "cuda": Capabilities("cuda", "nccl", channels_last=True, compile=True, cuda_graphs=True,
                         autocast_dtypes=(torch.bfloat16, torch.float16), grad_scaler="torch.amp",
                         pin_memory=True, non_blocking=True, cudnn_benchmark=True),
    # torch_npu: "Only contiguous_format or preserve_format is supported"; torch.compile needs
    # Ascend's own backend; no CUDA graphs; 910A-class chips have no bf16. Copies with
    # non_blocking=True are always asynchronous on an NPU, even from pageable memory that the
    # caller may free or reuse at once, so uploads stay blocking.
    "npu": Capabilities("npu", "hccl", channels_last=False, compile=False, cuda_graphs=False,
                        autocast_dtypes=(torch.float16,), grad_scaler="torch.amp",
                        pin_memory=False, non_blocking=False),
}

PRECISION_NAMES = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}   # autocast dtype -> name


def _kind_of(device: Device | torch.device | str) -> str:
    if isinstance(device, Device):
        return device.kind
    if isinstance(device, torch.device):
        return device.type
    return str(device).split(":")[0]


_CAPS_CACHE: dict[str, Capabilities] = {}


def capabilities(device: Device | torch.device | str) -> Capabilities:
    """The capability row of ``device``'s type, refined by what this machine reports (asked once)."""
    kind = _kind_of(device)
    if kind not in _CAPS_CACHE:
        _CAPS_CACHE[kind] = _machine_capabilities(kind)
    return _CAPS_CACHE[kind]


def _machine_capabilities(kind: str) -> Capabilities:
    if kind not in _TABLE:
        raise DeviceError(f"no capability table for device type {kind!r} (known: {sorted(_TABLE)})")
    caps = _TABLE[kind]
    if kind == "cuda" and torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
        caps = replace(caps, autocast_dtypes=(torch.float16,))
    if kind == "npu":
        npu = getattr(torch_npu_module(), "npu", None)
        bf16 = getattr(npu, "is_bf16_supported", None)
        try:
            has_bf16 = bool(bf16()) if bf16 is not None else False
        except Exception:  # noqa: BLE001 - no chip answered: assume the 910A-class subset
            has_bf16 = False
        scaler = "torch_npu" if getattr(getattr(npu, "amp", None), "GradScaler", None) is not None else "torch.amp"
        caps = replace(caps, grad_scaler=scaler,
                       autocast_dtypes=caps.autocast_dtypes + ((torch.bfloat16,) if has_bf16 else ()))
    return caps


def table_row(kind: str) -> Capabilities:
    """The capability table's row for ``kind`` without asking any chip (a launcher's kernel must not:
    torch_npu's first query opens a context on card 0, which the kernel would then hold)."""
    if kind not in _TABLE:
        raise DeviceError(f"no capability table for device type {kind!r} (known: {sorted(_TABLE)})")
    return _TABLE[kind]


def check_options_statically(kind: str, channels_last: bool | None, compile: bool, amp: str,
                             loss_scale: float | str) -> None:
    """What the table alone refuses (a layout, compile, an amp name, a loss scale); the chip's own
    precisions are checked by each rank once it has set its device."""
    _layout(table_row(kind), channels_last)
    _compile(table_row(kind), compile)
    if amp not in ("auto", "none", "bf16", "fp16", None):
        raise DeviceError(f"amp must be auto, none, bf16 or fp16, got {amp!r}")
    _static_scale(loss_scale)


def check_no_silent_fallback(spec: str, processes: int) -> None:
    """A multi-process job with ``device: auto`` on a host whose torch_npu is installed but cannot
    load stops here, instead of training ``processes`` ranks on the CPU after one warning."""
    if str(spec).strip().lower() != "auto" or processes <= 1 or not torch_npu_installed():
        return
    reason = npu_unavailable_reason()
    if reason is None:
        return
    other = "cuda" if torch.cuda.is_available() else "cpu"
    raise DeviceError(f"device 'auto' would start {processes} processes on {other}, because {reason} Fix the NPU "
                      f"set-up, or ask for {other} explicitly (-p device {other}).")


def as_device(device: Device | torch.device | str | None) -> Device:
    """A :class:`Device` for what a caller passed (None: the CPU; strings are resolved)."""
    if device is None:
        return Device("cpu")
    if isinstance(device, Device):
        return device
    if isinstance(device, torch.device):
        return Device(device.type, device.index if device.type != "cpu" else None)
    return resolve_device(device)


def distributed_backend(device: Device) -> str:
    return capabilities(device).backend


def _layout(caps: Capabilities, requested: bool | None) -> bool:
    if requested is None:
        return caps.channels_last
    if requested and not caps.channels_last:
        raise DeviceError(f"channels_last is not supported on {caps.kind} (it accepts only contiguous tensors): "
                          f"set channels_last: false")
    return bool(requested)


def _compile(caps: Capabilities, requested: bool) -> bool:
    if requested and not caps.compile:
        raise DeviceError(f"compile: true is not supported on {caps.kind} (torch.compile needs the vendor's own "
                          f"backend there): set compile: false")
    return bool(requested)


def use_channels_last(device: Device | torch.device | str, requested: bool | None = None) -> bool:
    """``requested`` (None: the device's default) checked against the table."""
    return _layout(table_row(_kind_of(device)), requested)


def check_compile(device: Device | torch.device | str, requested: bool) -> bool:
    """``compile: true`` only where torch.compile's default backend works."""
    return _compile(table_row(_kind_of(device)), requested)


def uploads(device: Device | torch.device | str, pinned: bool | None = None) -> tuple[bool, bool]:
    """``(pin host buffers, non_blocking uploads)``. Asynchronous uploads only from pinned memory: a
    pageable buffer may be freed or reused while the copy is queued. NPUs pin only when asked
    (``npu_options.pinned_memory``); CUDA always; the CPU never uploads."""
    caps = capabilities(device)
    if caps.kind == "npu":
        return bool(pinned), bool(pinned)
    return caps.pin_memory, caps.pin_memory and caps.non_blocking


def autocast_dtype(device: Device, amp: str = "auto") -> torch.dtype | None:
    """The autocast dtype for ``amp`` (auto | none | bf16 | fp16) on ``device``; None: fp32.

    ``auto`` is fp32 on CPU (exact and reproducible), bf16 on CUDA GPUs that support it,
    fp16 on NPUs (the seed's mixed precision) and older GPUs. A dtype the device cannot
    autocast to is an error naming the ones it can.
    """
    if amp in ("none", None):
        return None
    if amp not in ("auto", "bf16", "fp16"):
        raise DeviceError(f"amp must be auto, none, bf16 or fp16, got {amp!r}")
    caps = capabilities(device)
    if amp == "auto":
        if caps.kind == "cpu":
            return None
        return caps.autocast_dtypes[0]
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    if dtype not in caps.autocast_dtypes:
        can = ", ".join(PRECISION_NAMES[d] for d in caps.autocast_dtypes)
        raise DeviceError(f"amp: {amp} is not supported on {device} (this chip autocasts to {can}): "
                          f"use amp: {PRECISION_NAMES[caps.autocast_dtypes[0]]} or amp: none")
    return dtype


def autocast(device: Device | torch.device | str, dtype: torch.dtype | None, **kwargs):
    """``torch.autocast`` for the device's type, or a no-op for fp32."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=capabilities(device).kind, dtype=dtype, **kwargs)


def needs_grad_scaler(device: Device, amp: str = "auto") -> bool:
    """fp16 gradients underflow without loss scaling; bf16 and fp32 do not need it."""
    return autocast_dtype(device, amp) == torch.float16


class LossScaling(NamedTuple):
    scaler: Any              # torch.amp.GradScaler or torch_npu.npu.amp.GradScaler (disabled outside fp16)
    update: float | None     # what to pass to ``scaler.update()`` each step (a float keeps torch's scale static)
    static: bool             # a static scale: overflows are found by the step itself (torch_npu checks none)


def _static_scale(loss_scale: float | str) -> float | None:
    try:
        static = None if loss_scale == "dynamic" else float(loss_scale)
    except (TypeError, ValueError):
        static = -1.0
    if static is not None and not static > 0:
        raise DeviceError(f"loss_scale must be 'dynamic' or a positive number, got {loss_scale!r}")
    return static


def make_grad_scaler(device: Device, amp: str = "auto", loss_scale: float | str = "dynamic") -> LossScaling:
    """The GradScaler the device documents, how to update it, and whether its scale is static.

    ``loss_scale``: "dynamic" (grow/back off) or a number (a static scale, like the seed's
    apex O2 ``loss_scale=128``). NPUs use ``torch_npu.npu.amp.GradScaler`` when torch_npu has
    it: it reads the 910A-class overflow flag and shares overflow status across ranks; with
    ``dynamic=False`` it skips the inf check and applies every step (torch_npu 2.7.1,
    ``npu/amp/grad_scaler.py``), so a static scale is checked by :class:`TrainStep` instead.
    """
    enabled = needs_grad_scaler(device, amp)
    static = _static_scale(loss_scale)
    caps = capabilities(device)
    if caps.grad_scaler == "torch_npu":
        cls = torch_npu_module().npu.amp.GradScaler
        if static is None:
            return LossScaling(cls(enabled=enabled), None, False)
        return LossScaling(cls(init_scale=static, dynamic=False, enabled=enabled), None, True)
    kwargs = {} if static is None else {"init_scale": static}
    return LossScaling(torch.amp.GradScaler(caps.kind, enabled=enabled, **kwargs), static, static is not None)


def npu_precision_mode() -> str:
    """The ACL precision mode NPU operators run under: the one set in this process
    (``torch_npu._C._npu_getOption``), else the chip's default, which torch_npu 2.7.1 picks by SoC:
    ``allow_fp32_to_fp16`` before Ascend910B1 (the 910A: fp32 matrix ops run in fp16),
    ``must_keep_origin_dtype`` from it (the SoCs that also have bf16)."""
    getter = getattr(getattr(torch_npu_module(), "_C", None), "_npu_getOption", None)
    try:
        value = getter("ACL_PRECISION_MODE") if getter is not None else None
    except Exception:  # noqa: BLE001 - an option never set reads as nothing
        value = None
    if value:
        return value.decode() if isinstance(value, bytes) else str(value)
    return "must_keep_origin_dtype" if torch.bfloat16 in capabilities("npu").autocast_dtypes else "allow_fp32_to_fp16"


def precision_in_effect(device: Device, dtype: torch.dtype | None) -> str:
    """The precision as it really runs: ``fp32`` on a 910A runs its matrix ops in fp16, and on
    910B-class NPUs (and Ampere GPUs) convolutions use a 19-bit format unless it is turned off."""
    name = PRECISION_NAMES[dtype]
    if device.kind == "npu":
        mode = npu_precision_mode()
        if mode == "allow_fp32_to_fp16":
            what = "fp16 matrix ops" if dtype is None else "its fp32 parts (the head) in fp16 too"
            return f"{name} with {what} (NPU precision mode allow_fp32_to_fp16)"
        conv = getattr(getattr(torch_npu_module(), "npu", None), "conv", None)
        if dtype is None and getattr(conv, "allow_hf32", False):
            return "fp32 with HF32 convolutions"
        return name
    if device.kind == "cuda" and dtype is None and torch.backends.cudnn.allow_tf32 \
            and torch.cuda.get_device_capability(device.index)[0] >= 8:
        return "fp32 with TF32 convolutions"
    return name


def synchronize(device: Device) -> None:
    """Wait for queued work (timing must not measure only the launch)."""
    if device.kind == "cuda":
        torch.cuda.synchronize(device.index)
    elif device.kind == "npu":
        torch_npu_module().npu.synchronize()


def device_name(device: Device) -> str:
    """What the hardware is called, for logs and reports: the CPU's model and the threads torch uses
    (trained weights depend on both, so every CPU figure carries them)."""
    if device.kind == "cuda":
        return torch.cuda.get_device_name(device.index)
    if device.kind == "npu":
        return str(torch_npu_module().npu.get_device_name(device.index))
    from .cores import cpu_model

    return f"cpu ({cpu_model()}, {torch.get_num_threads()} threads)"
