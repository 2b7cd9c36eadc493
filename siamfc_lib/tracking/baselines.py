"""OpenCV CSRT and KCF as baselines through the same runner as SiamFC.

OpenCV trackers take BGR frames and 0-based integer ``x, y, w, h``; both conversions happen
here (boxes via :mod:`siamfc_lib.boxes`). Builds differ: OpenCV 4.5.1+ has
``cv2.TrackerCSRT_create`` (and ``cv2.TrackerCSRT.create``), contrib builds also keep the
old API under ``cv2.legacy``; whichever exists is used. A frame where the tracker reports
failure keeps the previous box.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np

from .. import boxes
from .sequence import track_sequence

BASELINES = {"csrt": "CSRT", "kcf": "KCF"}


class UnknownBaselineError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def _factory(kind: str):
    for owner in (cv2, getattr(cv2, "legacy", None)):
        create = getattr(owner, f"Tracker{kind}_create", None) if owner is not None else None
        if create is not None:
            return create
    cls = getattr(cv2, f"Tracker{kind}", None)
    if cls is not None and hasattr(cls, "create"):
        return cls.create
    raise RuntimeError(f"this OpenCV ({cv2.__version__}) has no Tracker{kind}; install opencv-contrib-python-headless")


def otb_to_cv_rect(box_otb: Sequence[float]) -> tuple[int, int, int, int]:
    """1-based OTB -> OpenCV's 0-based integer ``x, y, w, h`` (top-left pixel index)."""
    x0, y0, w, h = boxes.otb_to_xywh0(box_otb)
    return int(round(x0)), int(round(y0)), max(1, int(round(w))), max(1, int(round(h)))


def cv_rect_to_otb(rect: Sequence[float]) -> np.ndarray:
    """OpenCV's 0-based ``x, y, w, h`` -> 1-based OTB (via the corner form)."""
    return boxes.xywh0_to_otb([float(v) for v in rect])


class OpenCVTracker:
    """A CSRT or KCF tracker with SiamFCTracker's ``init``/``update``/``track_frames`` API."""

    def __init__(self, kind: str):
        self.kind = kind
        self.name = kind
        self._create = _factory(kind)
        self._tracker = None
        self._box = np.zeros(4)

    def init(self, frame_rgb: np.ndarray, box_otb: Sequence[float]) -> None:
        self._tracker = self._create()
        self._tracker.init(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR), otb_to_cv_rect(box_otb))
        self._box = np.asarray(box_otb, dtype=np.float64)

    def update(self, frame_rgb: np.ndarray) -> np.ndarray:
        ok, rect = self._tracker.update(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR))
        if ok and rect[2] > 0 and rect[3] > 0:
            self._box = cv_rect_to_otb(rect)
        return self._box.copy()

    def track_frames(self, frames: Iterable[np.ndarray | str | Path], box_otb: Sequence[float]
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Track frames (RGB arrays or image paths) from ``box_otb``: see ``track_sequence``."""
        return track_sequence(self, frames, box_otb)


def make_baseline(name: str) -> OpenCVTracker:
    key = name.strip().lower()
    if key not in BASELINES:
        raise UnknownBaselineError(f"unknown baseline {name!r}; choose from {sorted(BASELINES)}")
    return OpenCVTracker(BASELINES[key])


def make_baselines(names: Sequence[str] | None) -> list[OpenCVTracker]:
    """All named baselines; every name is checked before any tracker is built."""
    names = list(names or [])
    unknown = [n for n in names if n.strip().lower() not in BASELINES]
    if unknown:
        raise UnknownBaselineError(f"unknown baseline(s) {unknown}; choose from {sorted(BASELINES)}")
    return [make_baseline(n) for n in names]
