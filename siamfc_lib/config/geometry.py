"""Crop geometry shared by curation, training and tracking (SiamFC paper values)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CropGeometry:
    exemplar_size: int = 127          # z crop side in the network input
    instance_size: int = 255          # x crop side: curated crops and tracking (17x17 map)
    train_instance_size: int = 239    # x crop side in training (255 - 2 * stride: 15x15 map)
    context: float = 0.5              # context margin, fraction of (w + h)
    total_stride: int = 8             # backbone stride

    def response_size(self, instance_size: int) -> int:
        """Side of the score map for an instance crop of ``instance_size``."""
        return (instance_size - self.exemplar_size) // self.total_stride + 1
