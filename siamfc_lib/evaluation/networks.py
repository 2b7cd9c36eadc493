"""Which networks 05 evaluates: the trained one, the same network before training, and the sweep's epochs."""
from __future__ import annotations

from pathlib import Path

import torch

from ..config.tracking import EvalConfig
from ..deploy.backends import network_for
from ..model import build_model
from ..training.checkpoints import epoch_path, load_model_from_checkpoint, run_dir_of
from .engine import ModelJob
from .sweep import SWEEP_DIR, epoch_tracker, select_epochs, sweep_train_dir

UNTRAINED_SUFFIX = "-untrained"


def untrained_model(checkpoint: str | Path | None, like: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """The network before training: the run's ``siamfc_e0.pth`` if it exists, else a seeded init
    of the same width (the global torch RNG is left untouched)."""
    if checkpoint:
        run_dir = run_dir_of(checkpoint)
        e0 = epoch_path(run_dir, 0) if run_dir is not None else None
        if e0 is not None and e0.exists():
            return load_model_from_checkpoint(e0, "cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(width=float(getattr(like, "width", 1.0)), head_bias=like.head.bias is not None)


def backend_tracker(tracker_name: str, backend: str) -> str:
    """``SiamFC-onnxruntime``: the evaluated checkpoint run by another backend."""
    return f"{tracker_name}-{backend}"


def evaluation_jobs(cfg: EvalConfig, model: torch.nn.Module) -> tuple[list[ModelJob], dict[int, Path]]:
    """The networks to track (the primary one first) and the sweep's ``{epoch: checkpoint}``."""
    run_dir = Path(cfg.run_dir)
    jobs = [ModelJob(cfg.tracker_name, model, run_dir, primary=True)]
    if cfg.compare_untrained:
        jobs.append(ModelJob(cfg.tracker_name + UNTRAINED_SUFFIX, untrained_model(cfg.checkpoint, model, cfg.seed),
                             run_dir))
    # The same checkpoint through another runtime: its row beside the PyTorch one is the parity check.
    jobs += [ModelJob(backend_tracker(cfg.tracker_name, backend),
                      network_for(cfg.checkpoint, backend, cfg.run_dir, cfg.providers), run_dir)
             for backend in cfg.compare_backends if backend != cfg.backend]
    if not (cfg.sweep_epochs and cfg.checkpoint):
        return jobs, {}
    epochs = select_epochs(sweep_train_dir(cfg.checkpoint), cfg.sweep_epochs)
    jobs += [ModelJob(epoch_tracker(epoch), load_model_from_checkpoint(path, "cpu"), run_dir / SWEEP_DIR)
             for epoch, path in epochs.items()]
    return jobs, epochs
