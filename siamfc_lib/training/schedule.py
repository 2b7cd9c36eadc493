"""Optimiser and per-epoch learning-rate schedules of the two presets, paper and ascend."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..config import TrainConfig


def lr_factor(cfg: TrainConfig, epoch: int) -> float:
    """Multiplier of ``cfg.lr`` during 0-based ``epoch``.

    ``log``: logspace from lr to lr_end inclusive over the epochs (the paper's
    logspace(-2, -5, 50)); ``step``: x lr_gamma every lr_step epochs (the seed's StepLR).
    """
    epoch = min(epoch, max(cfg.epochs - 1, 0))
    if cfg.lr_schedule == "log":
        if cfg.epochs <= 1:
            return 1.0
        return (cfg.lr_end / cfg.lr) ** (epoch / (cfg.epochs - 1))
    return cfg.lr_gamma ** (epoch // cfg.lr_step)


def lr_scale(cfg: TrainConfig, world_size: int) -> float:
    """Multiplier of the whole lr schedule for ``world_size`` ranks (global batch = world x batch).

    ``none``: the configured lr at any global batch (fewer, larger steps per epoch);
    ``linear``: x world size (Goyal et al. 2017, the usual rule for SGD with momentum);
    ``sqrt``: x sqrt(world size) (Krizhevsky 2014, a milder rule). One process: always 1.
    A resumed run keeps the schedule stored in its checkpoint (the scheduler's base lr).
    """
    world = max(1, world_size)
    return {"none": 1.0, "linear": float(world), "sqrt": math.sqrt(world)}[cfg.lr_scaling]


def lr_warmup_steps(cfg: TrainConfig, scale: float, steps_per_epoch: int) -> int:
    """Optimizer steps over which a scaled lr ramps up (0 when nothing is scaled)."""
    return 0 if scale == 1.0 else max(0, round(cfg.lr_warmup_epochs * steps_per_epoch))


def warmup_factor(scale: float, step: int, warmup: int) -> float:
    """Multiplier of the scheduled (scaled) lr at 0-based global ``step``: from 1/scale up to 1."""
    if step >= warmup:
        return 1.0
    return (1.0 + (scale - 1.0) * (step + 1) / warmup) / scale


def build_optimizer(model: nn.Module, cfg: TrainConfig, scale: float = 1.0) -> torch.optim.SGD:
    """SGD at ``cfg.lr x scale`` (see :func:`lr_scale`); weight decay on convolution weights only
    (biases and BN excluded, as MatConvNet did)."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=cfg.lr * scale, momentum=cfg.momentum)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: lr_factor(cfg, epoch))
