"""The target's box in the first tracked frame, as the user gives it: parsed, then checked against the frame.

Boxes are 1-based OTB ``x, y, w, h`` (the top-left pixel is ``(1, 1)``), as in OTB ground-truth
files; the picker and OpenCV's ROI selector report 0-based rectangles, converted by
:func:`siamfc_lib.boxes.xywh0_to_otb`.
"""
from __future__ import annotations

import re

import numpy as np

from .. import boxes

HOW_TO_GIVE = ("draw it on the first frame (07_track_video in JupyterLab shows a picker; the command line "
               "opens OpenCV's selector where there is a display), or pass it: papermill -p box \"[x, y, w, h]\", "
               "command line --box x,y,w,h (1-based pixels, as in OTB ground-truth files)")


def parse_box(value) -> list[float]:
    """Four numbers from a list, or from a string such as ``"[10, 20, 30, 40]"`` or ``"10,20,30,40"``."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[\s,;\[\]()]+", value.strip()) if p]
    else:
        parts = list(np.asarray(value, dtype=object).ravel()) if value is not None else []
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        numbers = []
    if len(numbers) != 4 or not all(np.isfinite(numbers)):
        raise ValueError(f"box must be four numbers x, y, w, h, got {value!r}: {HOW_TO_GIVE}")
    return numbers


def check_first_box(box, frame_shape: tuple[int, ...], frame_index: int) -> np.ndarray:
    """The box as float64, or an error naming the frame's size and how to give a box."""
    if box is None:
        raise ValueError(f"no box for the target in frame {frame_index}: {HOW_TO_GIVE}")
    b = np.asarray(parse_box(box), dtype=np.float64)
    if not (b[2] > 0 and b[3] > 0):
        raise ValueError(f"box {b.tolist()} has zero or negative size: w and h must be positive pixels; {HOW_TO_GIVE}")
    height, width = frame_shape[:2]
    cx, cy = boxes.otb_to_cxcywh(b)[:2]
    if not (-0.5 <= cx <= width - 0.5 and -0.5 <= cy <= height - 0.5):
        raise ValueError(f"box {b.tolist()} lies outside frame {frame_index} ({width}x{height} pixels): its centre "
                         f"must be inside, with x from 1 to {width} and y from 1 to {height}; {HOW_TO_GIVE}")
    return b
