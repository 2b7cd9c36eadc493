"""Cross-correlation head: each exemplar's features slide over its own instance features."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CorrelationHead(nn.Module):
    """One grouped convolution over the batch, scaled by ``out_scale`` (+ learned bias).

    Computed in fp32 even under autocast: the un-scaled sum over 256x6x6 products can
    overflow fp16 (max 65504) before the 1e-3 scale.

    ``exemplar`` may hold one exemplar per instance (``Bz == Bx``) or one exemplar shared by
    ``Bx`` instances (``Bz == 1``, the tracker's scale pyramid).
    """

    def __init__(self, out_scale: float = 1e-3, learn_bias: bool = True):
        super().__init__()
        self.out_scale = out_scale
        self.bias = nn.Parameter(torch.zeros(1)) if learn_bias else None

    def forward(self, exemplar: torch.Tensor, instance: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=instance.device.type, enabled=False):
            z = exemplar.float()
            x = instance.float()
            bz, c, hz, wz = z.shape
            bx, _, hx, wx = x.shape
            if bz == 1 and bx > 1:
                out = F.conv2d(x, z)
            elif bz == bx:
                out = F.conv2d(x.reshape(1, bx * c, hx, wx), z, groups=bx)
                out = out.reshape(bx, 1, out.shape[-2], out.shape[-1])
            else:
                raise ValueError(f"exemplar batch {bz} does not match instance batch {bx}")
            out = out * self.out_scale
            if self.bias is not None:
                out = out + self.bias
            return out
