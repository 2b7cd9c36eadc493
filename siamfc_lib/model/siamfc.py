"""The Siamese network: a shared backbone and a correlation head."""
from __future__ import annotations

import torch
from torch import nn

from .backbones import AlexNetV1
from .heads import CorrelationHead


class SiamFC(nn.Module):
    def __init__(self, width: float = 1.0, head_bias: bool = True):
        super().__init__()
        self.width = width
        self.backbone = AlexNetV1(width)
        self.head = CorrelationHead(learn_bias=head_bias)

    def forward(self, exemplar: torch.Tensor, instance: torch.Tensor) -> torch.Tensor:
        """Score maps ``(B, 1, R, R)`` for RGB float inputs in 0..255, NCHW."""
        return self.head(self.backbone(exemplar), self.backbone(instance))


def build_model(width: float = 1.0, head_bias: bool = True) -> SiamFC:
    return SiamFC(width=width, head_bias=head_bias)
