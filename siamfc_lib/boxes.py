"""Every box conversion in the project lives here; nothing else does box arithmetic by hand.

Canonical form: ``cxcywh``, float, 0-based pixel-index coordinates (pixel ``i`` is centred
on ``i``), so a box covering pixels ``x0..x1`` inclusive has ``cx = (x0 + x1) / 2`` and
``w = x1 - x0 + 1``. The external formats:

* OTB ground truth and results: 1-based ``x, y, w, h`` (MATLAB), top-left pixel ``x``:
  ``cx = x - 1 + (w - 1) / 2`` (the got10k/OTB centre ``x + (w - 1) / 2`` shifted to 0-based).
* ILSVRC VID XML: 0-based inclusive corners ``xmin, ymin, xmax, ymax``: ``w = xmax - xmin + 1``
  (as the original SiamFC curation and got10k).
* ``edges``: continuous ``x1, y1, x2, y2`` of the box's outer pixel edges, 0-based
  (``x1 = cx - w/2``); what drawing code and IoU on continuous boxes need.

All functions take array-likes of shape ``(4,)`` or ``(N, 4)`` and return float64 arrays of
the same shape.
"""
from __future__ import annotations

import numpy as np


def _as_boxes(boxes) -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.shape[-1:] != (4,) or arr.ndim not in (1, 2):
        raise ValueError(f"expected boxes of shape (4,) or (N, 4), got {arr.shape}")
    return arr


def _stack(a, b, c, d) -> np.ndarray:
    return np.stack([a, b, c, d], axis=-1)


def otb_to_cxcywh(boxes) -> np.ndarray:
    """1-based OTB ``x, y, w, h`` -> canonical centre-size."""
    b = _as_boxes(boxes)
    x, y, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return _stack(x - 1 + (w - 1) / 2, y - 1 + (h - 1) / 2, w, h)


def cxcywh_to_otb(boxes) -> np.ndarray:
    """Canonical centre-size -> 1-based OTB ``x, y, w, h``."""
    b = _as_boxes(boxes)
    cx, cy, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return _stack(cx + 1 - (w - 1) / 2, cy + 1 - (h - 1) / 2, w, h)


def vid_corners_to_cxcywh(boxes) -> np.ndarray:
    """ILSVRC XML ``xmin, ymin, xmax, ymax`` (0-based, inclusive) -> canonical."""
    b = _as_boxes(boxes)
    x0, y0, x1, y1 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return _stack((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0 + 1, y1 - y0 + 1)


def cxcywh_to_vid_corners(boxes) -> np.ndarray:
    """Canonical -> ILSVRC XML corners (still float; round before writing XML)."""
    b = _as_boxes(boxes)
    cx, cy, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return _stack(cx - (w - 1) / 2, cy - (h - 1) / 2, cx + (w - 1) / 2, cy + (h - 1) / 2)


def cxcywh_to_edges(boxes) -> np.ndarray:
    """Canonical -> continuous outer edges ``x1, y1, x2, y2`` (for drawing and clipping)."""
    b = _as_boxes(boxes)
    cx, cy, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return _stack(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def edges_to_cxcywh(boxes) -> np.ndarray:
    """Continuous outer edges -> canonical."""
    b = _as_boxes(boxes)
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return _stack((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)


def otb_to_vid_corners(boxes) -> np.ndarray:
    return cxcywh_to_vid_corners(otb_to_cxcywh(boxes))


def vid_corners_to_otb(boxes) -> np.ndarray:
    return cxcywh_to_otb(vid_corners_to_cxcywh(boxes))


def edges_xywh(boxes) -> np.ndarray:
    """Canonical -> ``x1, y1, w, h`` of the outer edges (matplotlib ``Rectangle`` arguments)."""
    e = cxcywh_to_edges(boxes)
    return _stack(e[..., 0], e[..., 1], e[..., 2] - e[..., 0], e[..., 3] - e[..., 1])


def exemplar_context_size(w, h, context: float) -> np.ndarray:
    """Side of the square exemplar region: ``sqrt((w + p)(h + p))`` with ``p = context (w + h)``.

    The SiamFC paper's context rule; curation, training and tracking all call this one.
    """
    w = np.asarray(w, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    pad = context * (w + h)
    return np.sqrt((w + pad) * (h + pad))


def is_valid(boxes) -> np.ndarray:
    """Finite with positive width and height."""
    b = _as_boxes(boxes)
    return np.isfinite(b).all(axis=-1) & (b[..., 2] > 0) & (b[..., 3] > 0)


def corner_rows_to_xywh(boxes) -> np.ndarray:
    """``left, top, right, bottom`` rows (NfS annotations) -> ``x, y, w, h`` with ``w = right - left``.

    got10k's ``NfS`` reads them so, and the benchmark is scored on that reading.
    """
    b = _as_boxes(boxes)
    return _stack(b[..., 0], b[..., 1], b[..., 2] - b[..., 0], b[..., 3] - b[..., 1])


def xywh_to_corner_rows(boxes) -> np.ndarray:
    """The inverse of :func:`corner_rows_to_xywh`: ``x, y, w, h`` -> ``left, top, x + w, y + h``."""
    b = _as_boxes(boxes)
    return _stack(b[..., 0], b[..., 1], b[..., 0] + b[..., 2], b[..., 1] + b[..., 3])


def otb_to_xywh0(boxes) -> np.ndarray:
    """1-based OTB -> 0-based ``x, y, w, h`` (top-left pixel index; OpenCV's ``Rect``)."""
    return edges_xywh(otb_to_cxcywh(boxes)) + np.array([0.5, 0.5, 0.0, 0.0])


def xywh0_to_otb(boxes) -> np.ndarray:
    """0-based ``x, y, w, h`` (OpenCV) -> 1-based OTB."""
    b = _as_boxes(boxes)
    return b + np.array([1.0, 1.0, 0.0, 0.0])
