"""Optimiser and per-epoch learning-rate schedules of the two presets, paper and ascend."""
from __future__ import annotations

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


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.SGD:
    """SGD; weight decay on convolution weights only (biases and BN excluded, as MatConvNet did)."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: lr_factor(cfg, epoch))
