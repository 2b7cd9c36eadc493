"""Running any tracker (``init``/``update``) over a sequence, timed the way got10k times it."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

import numpy as np

from ..data.otb import read_rgb


class Tracker(Protocol):
    def init(self, frame_rgb: np.ndarray, box_otb: Sequence[float]) -> None: ...

    def update(self, frame_rgb: np.ndarray) -> np.ndarray: ...


def track_sequence(tracker: Tracker, frames: Iterable[np.ndarray | str | Path], box_otb: Sequence[float],
                   sync: Callable[[], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes (N, 4) 1-based OTB, seconds (N,))`` over RGB frames or image paths.

    As got10k: frame 0's box is the given one and its time is the ``init`` call; image
    decoding is not timed; ``sync`` waits for queued device work before each time is read.
    """
    out_boxes: list[np.ndarray] = []
    times: list[float] = []
    for index, frame in enumerate(frames):
        image = read_rgb(frame) if isinstance(frame, (str, Path)) else frame
        start = time.perf_counter()
        if index == 0:
            tracker.init(image, box_otb)
            box = np.asarray(box_otb, dtype=np.float64)
        else:
            box = tracker.update(image)
        if sync is not None:
            sync()
        times.append(time.perf_counter() - start)
        out_boxes.append(box)
    return np.asarray(out_boxes, dtype=np.float64).reshape(-1, 4), np.asarray(times)
