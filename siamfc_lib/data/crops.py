"""Square crops around a box centre, resized, padded with a colour: one affine warp each.

Used by curation (instance crops from frames) and by the tracker's CPU path. The region of
side ``size`` (pixels of the source) centred on ``(cx, cy)`` (0-based pixel-index
coordinates, see :mod:`siamfc_lib.boxes`) maps onto ``out_size`` x ``out_size`` pixels;
everything outside the image takes ``pad_color``.
"""
from __future__ import annotations

import cv2
import numpy as np


def crop_affine(cx: float, cy: float, size: float, out_size: int) -> np.ndarray:
    """2x3 matrix mapping source pixel coordinates to crop pixel coordinates."""
    scale = out_size / size
    half = (out_size - 1) / 2
    return np.array([[scale, 0.0, half - cx * scale], [0.0, scale, half - cy * scale]], dtype=np.float64)


def crop_square(image: np.ndarray, cx: float, cy: float, size: float, out_size: int,
                pad_color=None, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Cut, resize and pad in one ``cv2.warpAffine``; ``pad_color`` None: the image's mean."""
    if pad_color is None:
        pad_color = image.reshape(-1, image.shape[-1] if image.ndim == 3 else 1).mean(axis=0)
    border = tuple(float(c) for c in np.atleast_1d(pad_color))
    return cv2.warpAffine(image, crop_affine(cx, cy, size, out_size), (out_size, out_size),
                          flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def box_in_crop(box_cxcywh, cx: float, cy: float, size: float, out_size: int) -> np.ndarray:
    """Where a canonical box lands inside the crop (canonical cxcywh, crop pixels)."""
    b = np.asarray(box_cxcywh, dtype=np.float64)
    scale = out_size / size
    half = (out_size - 1) / 2
    return np.array([half + (b[0] - cx) * scale, half + (b[1] - cy) * scale, b[2] * scale, b[3] * scale])
