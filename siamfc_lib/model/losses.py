"""SiamFC labels and the balanced logistic loss (Bertinetto et al. 2016).

Positive cells lie within ``r_pos / stride`` (Euclidean, map cells) of the map centre;
with ``r_neg <= r_pos`` every other cell is negative, otherwise the ring between them is
ignored. Positives and negatives each carry half of a map's weight, so the 13 positives of
the 15x15 map are not drowned by its 212 negatives.

The paper centres the positives on the map whatever the augmentation's shift, so a target
moved half a cell is labelled as if it had not moved. ``labels_follow_shift`` centres each
pair's positives on its target instead (:func:`shifted_targets`).
"""
from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F


def _masks(dist: torch.Tensor, r_pos: float, r_neg: float, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(positive, negative) cells given each cell's distance in cells from the target."""
    positive = dist <= r_pos / stride
    negative = dist > max(r_neg, r_pos) / stride if r_neg > r_pos else ~positive
    return positive, negative


def label_masks(size: tuple[int, int], r_pos: float = 16.0, r_neg: float = 0.0,
                stride: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean (positive, negative) masks of shape ``size`` on the CPU."""
    h, w = size
    ys = torch.arange(h, dtype=torch.float64) - (h - 1) / 2
    xs = torch.arange(w, dtype=torch.float64) - (w - 1) / 2
    return _masks(torch.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2), r_pos, r_neg, stride)


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


def shifted_targets(size: tuple[int, int], offsets: torch.Tensor, r_pos: float = 16.0, r_neg: float = 0.0,
                    stride: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pair (labels, weights) of shape ``(B, H, W)`` with each map's positives centred on
    its target, ``offsets`` ``(B, 2)`` being the target centre's (x, y) offset from the
    instance centre in pixels; each map's weights are balanced as in :func:`label_targets`."""
    h, w = size
    ys = torch.arange(h, dtype=torch.float32, device=offsets.device) - (h - 1) / 2
    xs = torch.arange(w, dtype=torch.float32, device=offsets.device) - (w - 1) / 2
    cells = offsets.float() / stride
    dist = torch.sqrt((ys[None, :, None] - cells[:, 1, None, None]) ** 2
                      + (xs[None, None, :] - cells[:, 0, None, None]) ** 2)
    positive, negative = (m.float() for m in _masks(dist, r_pos, r_neg, stride))
    weights = (positive * (0.5 / positive.sum(dim=(1, 2), keepdim=True).clamp(min=1))
               + negative * (0.5 / negative.sum(dim=(1, 2), keepdim=True).clamp(min=1)))
    return positive, weights


def batch_targets(shape: tuple[int, int, int], device: torch.device | str, r_pos: float = 16.0,
                  r_neg: float = 0.0, stride: int = 8, target_offsets: torch.Tensor | None = None,
                  labels_follow_shift: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(labels, weights) of a batch of ``shape`` ``(B, H, W)`` maps: the paper's one centred map
    for every pair, or with ``labels_follow_shift`` each pair's own (:func:`shifted_targets`)."""
    size = tuple(shape[-2:])
    if not labels_follow_shift:
        labels, weights = label_targets(size, device, r_pos, r_neg, stride)
        return labels.expand(shape[0], *size), weights
    if target_offsets is None:
        raise ValueError("labels_follow_shift needs each pair's target_offsets")
    return shifted_targets(size, target_offsets.to(device), r_pos, r_neg, stride)


def balanced_logistic_loss(logits: torch.Tensor, r_pos: float = 16.0, r_neg: float = 0.0,
                           stride: int = 8, target_offsets: torch.Tensor | None = None,
                           labels_follow_shift: bool = False) -> torch.Tensor:
    """Mean over the batch of each map's weighted logistic loss; ``logits`` is ``(B, 1, H, W)``.

    ``target_offsets`` ``(B, 2)``: each pair's target centre (x, y) in px from the instance
    centre, as :class:`~siamfc_lib.training.pairs.PairDataset` returns it; read only with
    ``labels_follow_shift``. Without it this is the paper's loss. Computed in fp32 whatever
    the input dtype (the loss is a sum of small terms).
    """
    logits = logits.float().reshape(logits.shape[0], *logits.shape[-2:])
    labels, weights = batch_targets(logits.shape, logits.device, r_pos, r_neg, stride, target_offsets,
                                    labels_follow_shift)
    per_cell = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    return (per_cell * weights).sum(dim=(1, 2)).mean()
