"""Tracker and evaluation configuration (SPEC.md tracker values, SiamFC-3s)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .geometry import CropGeometry


@dataclass
class TrackerConfig:
    scale_num: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_lr: float = 0.59
    window_influence: float = 0.176
    response_up: int = 16
    min_scale: float = 0.2            # clamp of the search size, relative to the first frame
    max_scale: float = 5.0
    geometry: CropGeometry = field(default_factory=CropGeometry)


@dataclass
class EvalConfig:
    otb_root: str = "dataset/OTB"
    checkpoint: str = ""
    device: str = "auto"
    sequences: list[str] | None = None
    run_dir: str = "outputs/eval"
    baselines: list[str] = field(default_factory=list)
    tracker_name: str = "SiamFC"
