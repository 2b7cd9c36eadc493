"""One sequence's tracking state and the paper's update from a located peak.

Shared by the single-sequence tracker and the batched evaluator, so both move boxes with
the same float64 arithmetic whichever device found the peak.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .. import boxes
from ..config.tracking import TrackerConfig
from .response import damped_scale


@dataclass
class TrackState:
    centre: np.ndarray            # 0-based (cx, cy)
    target_size: np.ndarray       # (w, h)
    frame_hw: tuple[int, int]
    pad_color: np.ndarray         # first frame's mean RGB (float64)
    exemplar_side: float
    search_side: float
    min_search_side: float
    max_search_side: float

    @classmethod
    def start(cls, frame_rgb: np.ndarray, box_otb: Sequence[float], cfg: TrackerConfig) -> "TrackState":
        """State at the first frame: context 0.5 exemplar side, search side in proportion."""
        cx, cy, w, h = boxes.otb_to_cxcywh(box_otb)
        if not (w > 0 and h > 0):
            raise ValueError(f"initial box must have positive size, got {list(box_otb)}")
        geo = cfg.geometry
        exemplar_side = float(boxes.exemplar_context_size(w, h, geo.context))
        search_side = exemplar_side * geo.instance_size / geo.exemplar_size
        return cls(np.array([cx, cy], dtype=np.float64), np.array([w, h], dtype=np.float64),
                   tuple(frame_rgb.shape[:2]), frame_rgb.reshape(-1, 3).mean(axis=0), exemplar_side,
                   search_side, cfg.min_scale * search_side, cfg.max_scale * search_side)

    def move(self, scale_index: int, row: int, col: int, sides: np.ndarray, scales: np.ndarray,
             cfg: TrackerConfig) -> np.ndarray:
        """Shift to the peak (upsampled map -> crop -> frame), damp and clamp the scale; OTB box."""
        geo = cfg.geometry
        upsampled = geo.response_size(geo.instance_size) * cfg.response_up
        disp_map = np.array([col, row], dtype=np.float64) - (upsampled - 1) / 2
        disp_frame = disp_map * geo.total_stride / cfg.response_up * sides[scale_index] / geo.instance_size
        h, w = self.frame_hw
        self.centre = np.clip(self.centre + disp_frame, [0.0, 0.0], [w - 1.0, h - 1.0])
        damped = damped_scale(scales[scale_index], cfg.scale_lr)
        new_side = float(np.clip(self.search_side * damped, self.min_search_side, self.max_search_side))
        factor = new_side / self.search_side
        self.search_side = new_side
        self.exemplar_side *= factor
        self.target_size = self.target_size * factor
        return self.box()

    def box(self) -> np.ndarray:
        return boxes.cxcywh_to_otb(np.concatenate([self.centre, self.target_size]))
