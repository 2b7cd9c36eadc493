"""The one frame the counts-only benchmark trees (VID- and GOT-10k-shaped) repeat: small and cheap to write."""
from __future__ import annotations

import numpy as np


def striped_jpeg(size: tuple[int, int], shade: int, every: int) -> bytes:
    """One small JPEG, a flat shade with every ``every``-th row inverted: a frame for counts-only trees."""
    import cv2

    img = np.full((size[1], size[0], 3), shade, np.uint8)
    img[::every] = 255 - img[::every]
    return cv2.imencode(".jpg", img)[1].tobytes()
