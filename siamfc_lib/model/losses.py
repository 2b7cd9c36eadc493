"""SiamFC labels and the balanced logistic loss (Bertinetto et al. 2016).

Positive cells lie within ``r_pos / stride`` (Euclidean, map cells) of the map centre;
with ``r_neg <= r_pos`` every other cell is negative, otherwise the ring between them is
ignored. Positives and negatives each carry half of a map's weight, so the 13 positives of
the 15x15 map are not drowned by its 212 negatives.
"""
from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F


def label_masks(size: tuple[int, int], r_pos: float = 16.0, r_neg: float = 0.0,
                stride: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean (positive, negative) masks of shape ``size`` on the CPU."""
    h, w = size
    ys = torch.arange(h, dtype=torch.float64) - (h - 1) / 2
    xs = torch.arange(w, dtype=torch.float64) - (w - 1) / 2
    dist = torch.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    positive = dist <= r_pos / stride
    negative = dist > max(r_neg, r_pos) / stride if r_neg > r_pos else ~positive
    return positive, negative


@lru_cache(maxsize=32)
def _cached_targets(size: tuple[int, int], r_pos: float, r_neg: float, stride: int,
                    device: str) -> tuple[torch.Tensor, torch.Tensor]:
    positive, negative = label_masks(size, r_pos, r_neg, stride)
    labels = positive.float()
    weights = positive.float() * (0.5 / positive.sum()) + negative.float() * (0.5 / negative.sum())
    return labels.to(device), weights.to(device)


def label_targets(size: tuple[int, int], device: torch.device | str = "cpu", r_pos: float = 16.0,
                  r_neg: float = 0.0, stride: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """(labels in {0,1}, per-cell weights summing to 1) for one map, built once per (shape, device)."""
    return _cached_targets(tuple(int(s) for s in size), float(r_pos), float(r_neg), int(stride),
                           str(torch.device(device)))


def balanced_logistic_loss(logits: torch.Tensor, r_pos: float = 16.0, r_neg: float = 0.0,
                           stride: int = 8) -> torch.Tensor:
    """Mean over the batch of each map's weighted logistic loss; ``logits`` is ``(B, 1, H, W)``.

    Computed in fp32 whatever the input dtype (the loss is a sum of small terms).
    """
    labels, weights = label_targets(logits.shape[-2:], logits.device, r_pos, r_neg, stride)
    logits = logits.float().reshape(logits.shape[0], *logits.shape[-2:])
    per_cell = F.binary_cross_entropy_with_logits(logits, labels.expand_as(logits), reduction="none")
    return (per_cell * weights).sum(dim=(1, 2)).mean()
