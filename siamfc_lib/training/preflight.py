"""Checks made before torchrun starts any process: a job that cannot run fails in seconds,
in the notebook cell, with the fix, instead of N ranks failing (or hanging) one by one.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..config import TrainConfig
from ..data.crop_store import open_crop_store
from ..data.manifest import MANIFEST_FILE, LEGACY_JSON_FILE
from ..devices import (DeviceError, autocast_dtype, check_compile, device_count, make_grad_scaler,
                       resolve_device, use_channels_last)

_VISIBLE = {"npu": "ASCEND_RT_VISIBLE_DEVICES", "cuda": "CUDA_VISIBLE_DEVICES"}


class PreflightError(ValueError):
    """A launch that cannot work; the message names the fix."""


def check_launch(cfg: TrainConfig, npus: int, nnodes: int = 1) -> None:
    """Raise :class:`PreflightError` (or the device's :class:`DeviceError`) before any rank starts."""
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
        autocast_dtype(device, cfg.amp)
        use_channels_last(device, cfg.channels_last)
        check_compile(device, cfg.compile)
        make_grad_scaler(device, cfg.amp, cfg.loss_scale)
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
