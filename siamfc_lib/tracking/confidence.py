"""How sure the tracker is, frame by frame, read from the response map it computes anyway.

* ``score``: the highest value of the chosen scale's raw response (17x17, before upsampling
  and window): the network's logit that the best position is the target;
* ``sharpness``: ``(peak - mean) / std`` of that map, a peak-to-sidelobe ratio without the
  excluded neighbourhood (Bolme et al., 2010, use one): one sharp peak reads high, a flat map or
  several similar peaks low;
* ``relative``: ``score`` over the target's own score in the first frame (the exemplar against
  its first search region, where the box is known), so it reads alike for any network: a
  trained network's logits differ by sequence (the demo's: 3 to 11 on found targets).

A frame is marked *likely lost* when ``relative < lost_below`` (0.4). On the demo's embedded
OTB set with its trained network (12 targets, 686 tracked frames), that marks 79 % of frames
with IoU below 0.1 and 6 % of frames with IoU above 0.5 (occlusions, mostly); a fixed logit
threshold cannot do this, since lost targets there still score about 1.

Nothing here feeds back into the tracker: the boxes are the same with or without it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..config.video import TrackVideoConfig

LOST_BELOW = TrackVideoConfig.lost_below


def map_score(raw_map: np.ndarray) -> tuple[float, float]:
    """``(score, sharpness)`` of one raw response map (any shape)."""
    values = np.asarray(raw_map, dtype=np.float64).ravel()
    peak = float(values.max())
    spread = float(values.std())
    return peak, (peak - float(values.mean())) / spread if spread > 0 else 0.0


def map_scores(raw: torch.Tensor, best: torch.Tensor) -> torch.Tensor:
    """(B, S, 1, R, R) raw maps and (B,) chosen scales -> (B, 2) float32 ``[score, sharpness]``.

    The device-side twin of :func:`map_score` (float32, so equal to it to about 1e-6).
    """
    b = raw.shape[0]
    flat = raw.reshape(b, raw.shape[1], -1)
    chosen = flat.gather(1, best.view(b, 1, 1).expand(b, 1, flat.shape[-1]))[:, 0].float()
    peak = chosen.amax(dim=1)
    spread = chosen.std(dim=1, unbiased=False)
    sharp = torch.where(spread > 0, (peak - chosen.mean(dim=1)) / spread.clamp_min(1e-12), torch.zeros_like(peak))
    return torch.stack([peak, sharp], dim=1)


@dataclass
class ConfidenceTrace:
    """Per-frame confidence of one tracked video: ``add`` after each update, arrays at the end.

    ``reference``: the first frame's score; when it is not positive (an untrained network) the
    relative score is undefined (NaN) and no frame is marked lost.
    """

    reference: float
    lost_below: float = LOST_BELOW
    scores: list[float] = field(default_factory=list)
    sharpness: list[float] = field(default_factory=list)

    def relative_of(self, score: float) -> float:
        return score / self.reference if self.reference > 0 else float("nan")

    def is_lost(self, score: float) -> bool:
        relative = self.relative_of(score)
        return bool(np.isfinite(relative) and relative < self.lost_below)

    def add(self, score: float, sharpness: float) -> tuple[float, bool]:
        """Record one frame; returns ``(relative score, likely lost)``."""
        self.scores.append(float(score))
        self.sharpness.append(float(sharpness))
        return self.relative_of(score), self.is_lost(score)

    @property
    def relative(self) -> np.ndarray:
        return np.array([self.relative_of(s) for s in self.scores], dtype=np.float64)

    @property
    def lost(self) -> np.ndarray:
        return np.array([self.is_lost(s) for s in self.scores], dtype=bool)
