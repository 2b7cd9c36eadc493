"""Checks made before torchrun starts any process: a job that cannot run fails in seconds,
in the notebook cell, with the fix, instead of N ranks failing (or hanging) one by one.

They never ask a chip anything: in the notebook's kernel, torch_npu's first device query opens a
context on card 0, which the kernel would then hold while the ranks train. Only counts and the
capability table's row are read here; each rank checks its chip's precisions after ``set_device``.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..config import TrainConfig
from ..data.crop_store import open_crop_store
from ..data.manifest import MANIFEST_FILE, LEGACY_JSON_FILE
from ..devices import DeviceError, check_no_silent_fallback, check_options_statically, device_count, resolve_device

_VISIBLE = {"npu": "ASCEND_RT_VISIBLE_DEVICES", "cuda": "CUDA_VISIBLE_DEVICES"}


class PreflightError(ValueError):
    """A launch that cannot work; the message names the fix."""


def check_launch(cfg: TrainConfig, npus: int, nnodes: int = 1) -> None:
    """Raise :class:`PreflightError` (or the device's :class:`DeviceError`) before any rank starts."""
    try:
        check_no_silent_fallback(cfg.device, npus * nnodes)
    except DeviceError as exc:
        raise PreflightError(str(exc)) from None
    device = resolve_device(cfg.device)             # names CANN / CUDA / the device spec when unusable
    if device.kind != "cpu":
        visible = device_count(device.kind)
        if npus > visible:
            var = _VISIBLE[device.kind]
            shown = f" ({var}={os.environ[var]})" if var in os.environ else ""
            raise PreflightError(
                f"npus={npus} processes per node, but only {visible} {device.kind} device(s) are visible on this "
                f"node{shown}: pass -p npus {visible}, or make the cards visible ({var}, `npu-smi info` / "
                f"`nvidia-smi`)")
    try:
        check_options_statically(device.kind, cfg.channels_last, cfg.compile, cfg.amp, cfg.loss_scale)
        if device.kind != "npu" and cfg.npu_options != type(cfg.npu_options)():
            raise DeviceError(f"npu_options are for Ascend NPUs, but this job trains on {device.kind}: remove them")
    except DeviceError as exc:
        raise PreflightError(str(exc)) from None
    if cfg.bn_policy == "sync" and device.kind == "cpu" and npus * nnodes > 1:
        raise PreflightError("bn_policy: sync needs CUDA or NPU devices: use bn_policy: local or broadcast on CPU")
    folder = Path(cfg.data_path)
    if not any((folder / name).exists() for name in (MANIFEST_FILE, LEGACY_JSON_FILE)):
        raise PreflightError(f"no curated dataset at {folder.resolve()} (neither {MANIFEST_FILE} nor {LEGACY_JSON_FILE}; "
                             f"working directory {Path.cwd()}): run 01_curate first, or point data_path at the "
                             "curated folder")
    try:
        store = open_crop_store(cfg.data_path, cfg.lmdb_path)
    except FileNotFoundError as exc:
        raise PreflightError(str(exc)) from None
    close = getattr(store, "close", None)
    if close is not None:
        close()
