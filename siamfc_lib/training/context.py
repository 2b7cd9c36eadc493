"""Where a training process sits in a (possibly) distributed run.

The single-process default does nothing; a torch.distributed wrapper (issue: 8-device
training) subclasses it to wrap the model in DDP, reduce metrics and synchronise ranks,
while :func:`siamfc_lib.training.trainer.train` stays unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap_model(self, model: nn.Module) -> nn.Module:
        return model

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    def barrier(self) -> None:
        pass
