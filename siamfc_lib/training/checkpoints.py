"""Training checkpoints: atomic, complete enough to resume exactly, and checked on load.

``run_dir/checkpoints/siamfc_e{N}.pth`` after epoch N (``e0``: the untrained network, the
"before" of every comparison) and ``last.pth``, atomically replaced by the newest.

Every tensor is saved as a CPU tensor, whatever device trained it, so a checkpoint opens
anywhere: torch_npu 2.7 pickles NPU tensors through its own rebuild function
(``torch_npu.utils.storage._rebuild_npu_tensor``), which only a process that imports torch_npu
can load. Files written that way by earlier versions open where torch_npu loads (it is
imported first), and ``python -m siamfc_lib.training.checkpoints portable OLD NEW`` rewrites
them there with CPU tensors.
"""
from __future__ import annotations

import argparse
import importlib
import io
import pickle
import random
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io_utils import atomic_write_bytes
from ..paths import not_found
from ..model import SiamFC, build_model

FORMAT = "siamfc-checkpoint/1"
_EPOCH_FILE = re.compile(r"^siamfc_e(\d+)\.pth$")


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, truncated, or not one of ours."""


def checkpoint_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints"


def epoch_path(run_dir: str | Path, epoch: int) -> Path:
    return checkpoint_dir(run_dir) / f"siamfc_e{epoch}.pth"


def epoch_checkpoints(run_dir: str | Path) -> dict[int, Path]:
    """``{epoch: path}`` of the run's ``siamfc_e{N}.pth`` files, oldest first."""
    found = {int(m.group(1)): p for p in checkpoint_dir(run_dir).glob("siamfc_e*.pth")
             if (m := _EPOCH_FILE.match(p.name))}
    return dict(sorted(found.items()))


def rng_states() -> dict[str, Any]:
    """Every generator's state in types ``torch.load(weights_only=True)`` reads (NumPy's key as a tensor)."""
    kind, key, pos, has_gauss, cached = np.random.get_state()
    numpy_state = (kind, torch.from_numpy(key.astype(np.int64)), int(pos), int(has_gauss), float(cached))
    states = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    random.setstate(tuple(v if not isinstance(v, list) else tuple(v) for v in states["python"]))
    kind, key, *rest = states["numpy"]
    key = key.numpy() if isinstance(key, torch.Tensor) else np.asarray(key)
    np.random.set_state((kind, key.astype(np.uint32), *rest))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def to_cpu(value: Any) -> Any:
    """``value`` with every tensor (in dicts, lists and tuples) copied to the host, detached."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(v) for v in value)
    return value


def checkpoint_bytes(payload: dict[str, Any]) -> bytes:
    """A checkpoint file's bytes: ``payload`` with CPU tensors only (it opens without the device's library)."""
    buf = io.BytesIO()
    torch.save(to_cpu(payload), buf)
    return buf.getvalue()


def save_checkpoint(run_dir: str | Path, epoch: int, state: dict[str, Any]) -> Path:
    """Write ``siamfc_e{epoch}.pth`` then replace ``last.pth``, each via temp file + rename."""
    data = checkpoint_bytes({"format": FORMAT, "epoch": epoch, "rng": rng_states(), **state})
    path = epoch_path(run_dir, epoch)
    atomic_write_bytes(path, data)
    atomic_write_bytes(checkpoint_dir(run_dir) / "last.pth", data)
    return path


def keeps_epoch(epoch: int, epochs: int, keep: int | None) -> bool:
    """Whether ``siamfc_e{epoch}`` is kept once a newer epoch exists. ``keep`` None: every epoch
    of runs up to 20 epochs, else every 10th (what the evaluation sweeps ask for); 0: all."""
    every = (1 if epochs <= 20 else 10) if keep is None else int(keep)
    return epoch == 0 or every <= 1 or epoch % every == 0 or epoch >= epochs


def prune_checkpoints(run_dir: str | Path, newest: int, epochs: int, keep: int | None) -> list[Path]:
    """Delete epoch checkpoints older than ``newest`` that the policy does not keep."""
    removed = []
    for epoch, path in epoch_checkpoints(run_dir).items():
        if epoch < newest and not keeps_epoch(epoch, epochs, keep):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def run_dir_of(checkpoint: str | Path) -> Path | None:
    """The training run a checkpoint belongs to: a run folder as given, ``run/checkpoints/x.pth``
    -> ``run``; None for a file outside a run (an imported weights file)."""
    path = Path(checkpoint)
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name == "checkpoints" else None


def resolve_checkpoint(path_or_run_dir: str | Path) -> Path:
    """A ``.pth`` file as given, or a run folder's ``checkpoints/last.pth``."""
    path = Path(path_or_run_dir)
    if path.is_dir():
        path = checkpoint_dir(path) / "last.pth"
    if not path.exists():
        raise not_found("checkpoint", path, "checkpoint", CheckpointError)
    return path


def _old_numpy_globals() -> list:
    """Exactly what checkpoints written before RNG states became tensors need: NumPy's array
    reconstruction (their ``np.random.get_state()`` key), nothing that can run other code."""
    core = getattr(np, "_core", None) or np.core
    return [core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def _device_library_globals(path: str | Path) -> list[str]:
    """The globals a file needs that come from a device library (torch_npu's NPU tensor rebuild)."""
    try:
        wanted = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - not a zip file: nothing to name
        return []
    return wanted if wanted and all(name.startswith("torch_npu.") for name in wanted) else []


def _load_with_device_library(path: str | Path, names: list[str], map_location) -> Any:
    """An NPU-pickled file: import torch_npu (it allows its own rebuild function), load, copy to the host."""
    from ..devices import torch_npu_module, npu_import_error

    module = torch_npu_module()
    if module is None:
        raise CheckpointError(
            f"{path} was saved on an NPU by an earlier version of this project: its tensors are torch_npu's "
            f"({', '.join(names)}), so only a process that can import torch_npu can open it, and this one cannot "
            f"({npu_import_error()}). Open it once on the NPU host (after sourcing CANN's set_env.sh) with "
            f"`python -m siamfc_lib.training.checkpoints portable {path} NEW.pth`: the copy holds CPU tensors "
            "and opens anywhere.")
    allowed = []
    for name in names:
        owner, _, attr = name.rpartition(".")
        try:
            allowed.append(getattr(importlib.import_module(owner), attr))
        except (ImportError, AttributeError):
            pass
    with torch.serialization.safe_globals(allowed):
        loaded = torch.load(path, map_location=map_location, weights_only=True)
    return to_cpu(loaded) if str(map_location) == "cpu" else loaded


def safe_torch_load(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(weights_only=True)``: a file that would import or run code is refused, never run.

    Checkpoints of older versions of this project hold NumPy arrays (only those types are allowed
    on a second try) or, when trained on an NPU, torch_npu tensors (opened by importing torch_npu
    where it loads). Anything else raises :class:`CheckpointError` naming what it wanted.
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        first = exc
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a damaged file
        raise CheckpointError(f"checkpoint {path} is unreadable (truncated or not a torch file): "
                              f"{type(exc).__name__}: {exc}") from exc
    npu_names = _device_library_globals(path)
    if npu_names:
        return _load_with_device_library(path, npu_names, map_location)
    try:
        with torch.serialization.safe_globals(_old_numpy_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception:  # noqa: BLE001 - report the first, more telling, refusal
        pass
    try:
        wanted = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - not a zip file: the unpickler's message tells
        wanted = []
    if not wanted and "Unsupported global" not in str(first):
        raise CheckpointError(f"checkpoint {path} is unreadable (truncated or not a torch file): "
                              f"{type(first).__name__}: {str(first).splitlines()[-1][:300]}") from first
    raise CheckpointError(
        f"refused to open {path}: loading it would import or run code from the file "
        f"({', '.join(wanted) if wanted else str(first).splitlines()[-1][:200]}), and files are only opened as "
        "plain tensors. A SiamFC checkpoint of this project never needs that; for released weights use "
        "`python -m siamfc_lib.weights import FILE --from {hl,sz,matconvnet} --out CHECKPOINT.pth`") from first


def load_checkpoint(path_or_run_dir: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The checkpoint dictionary; truncated or foreign files raise :class:`CheckpointError`."""
    path = resolve_checkpoint(path_or_run_dir)
    ckpt = safe_torch_load(path, map_location)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not a SiamFC training checkpoint ({FORMAT})")
    ckpt["path"] = str(path)
    return ckpt


def load_model_state(model: SiamFC, ckpt: dict[str, Any]) -> None:
    """Load weights; a different architecture or width raises naming the file."""
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint {ckpt.get('path')} does not fit this model "
                              f"(width {getattr(model, 'width', '?')} vs checkpoint width "
                              f"{ckpt.get('width')}): {exc}") from exc


def load_model_from_checkpoint(path_or_run_dir: str | Path, device: str | torch.device = "cpu") -> SiamFC:
    """The trained SiamFC in eval mode on ``device`` (a run_dir means its checkpoints/last.pth)."""
    ckpt = load_checkpoint(path_or_run_dir)
    model = build_model(width=float(ckpt["width"]), head_bias=bool(ckpt.get("head_bias", True)))
    load_model_state(model, ckpt)
    return model.to(device).eval()


def remove_partial_files(run_dir: str | Path) -> list[Path]:
    """Delete temp files of checkpoint writes a crash cut short (they are never loaded)."""
    removed = []
    for path in checkpoint_dir(run_dir).glob(".*.tmp"):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def make_portable(src: str | Path, dst: str | Path) -> Path:
    """Rewrite checkpoint ``src`` as ``dst`` with CPU tensors only (run it where ``src`` opens)."""
    atomic_write_bytes(Path(dst), checkpoint_bytes(safe_torch_load(src, "cpu")))
    return Path(dst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.training.checkpoints",
                                     description="Rewrite a checkpoint with CPU tensors, so it opens anywhere.")
    sub = parser.add_subparsers(dest="command", required=True)
    portable = sub.add_parser("portable", help="copy an NPU-pickled checkpoint as one that opens anywhere")
    portable.add_argument("src")
    portable.add_argument("dst")
    args = parser.parse_args(argv)
    try:
        print(f"wrote {make_portable(args.src, args.dst)} (CPU tensors: opens without torch_npu)")
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
