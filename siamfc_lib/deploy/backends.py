"""Which network a tracker gets for ``backend`` torch | onnxruntime | om, from a checkpoint or an export.

* torch: the checkpoint itself (an export folder is refused: its source ``.pth`` is in meta.json);
* onnxruntime: an export folder as given, or a ``.pth`` / run_dir exported first into
  ``work_dir/onnx`` with a dynamic batch (reused while its meta.json records the same checkpoint sha256);
* om: an export folder whose ``om/`` holds what its ``atc.sh`` wrote on an Ascend machine.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..io_utils import file_sha256
from ..training.checkpoints import load_model_from_checkpoint, resolve_checkpoint
from .meta import META, DeployError, read_meta
from .network import BACKENDS, load_network


def is_export_dir(path: str | Path | None) -> bool:
    return bool(path) and str(path) != "." and (Path(path) / META).is_file()


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise DeployError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return backend


def _exported(checkpoint: str | Path, work_dir: str | Path) -> Path:
    """``work_dir/onnx`` holding this checkpoint's export, written when absent or stale."""
    from .onnx_export import export_onnx

    out = Path(work_dir) / "onnx"
    sha = file_sha256(resolve_checkpoint(checkpoint))
    if is_export_dir(out):
        try:
            meta = read_meta(out)
            if meta.checkpoint_sha256 == sha and meta.dynamic_batch:
                return out
        except DeployError:
            pass
    export_onnx(checkpoint, out, dynamic_batch=True)     # batched evaluation: every sequence in one call
    return out


def network_for(checkpoint: str | Path, backend: str = "torch", work_dir: str | Path | None = None,
                providers: str | None = "auto") -> torch.nn.Module:
    """The network ``backend`` runs, on the host (see the module doc)."""
    check_backend(backend)
    if backend == "torch":
        if is_export_dir(checkpoint):
            source = read_meta(checkpoint).checkpoint
            raise DeployError(f"{checkpoint} is an ONNX export: pass backend onnxruntime (or om) to track with it, "
                              f"or its source checkpoint {source} for torch")
        return load_model_from_checkpoint(checkpoint, "cpu")
    if not is_export_dir(checkpoint):
        if backend == "om":
            raise DeployError(f"the om backend takes an export folder converted with its atc.sh, not {checkpoint}: "
                              "python -m siamfc_lib.export CHECKPOINT --out DIR --soc-version <chip>, then DIR/atc.sh")
        if work_dir is None:
            raise DeployError(f"{checkpoint} is not an export folder: python -m siamfc_lib.export {checkpoint} --out DIR")
        checkpoint = _exported(checkpoint, work_dir)
    return load_network(checkpoint, backend, providers)


def backend_label(model: torch.nn.Module, device_label: str) -> str:
    """``device_label`` plus the runtime when the network is an export ("cpu via onnxruntime CPU")."""
    backend = getattr(model, "backend", None)
    return f"{device_label} via {backend}" if backend else device_label
