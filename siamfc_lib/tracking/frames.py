"""Frames decoded ahead of the tracker, in worker processes, once per evaluation.

Every model evaluated on a sequence reads the same decoded frame, so a sweep over K
checkpoints decodes each image once, not K times. Workers are *spawned* processes: a forked
child of a parent that already used OpenCV's thread pool can deadlock, a spawned one cannot.
Each worker decodes with one OpenCV thread, so decoding never competes with the tracker for
more than the cores it was given.
"""
from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np

from ..cores import one_opencv_thread, usable_cores
from ..data.otb import read_rgb

Frame = np.ndarray | str | Path


def default_decode_workers(host_compute: bool = False) -> int:
    """Workers on the cores the tracker leaves free, at most 15 (a 640x480 JPEG costs a core a few ms).

    ``host_compute``: the network itself runs on the CPU, with ``torch.get_num_threads()`` threads;
    a decoder on one of those cores stalls every parallel op (measured on 2 cores: 31 -> 14
    frames/s), so then only cores beyond torch's get workers. An accelerator leaves all but one.
    """
    import torch

    busy = torch.get_num_threads() if host_compute else 1
    return max(0, min(15, usable_cores() - busy))


class FrameFeed:
    """The frames of one sequence in order, ``lookahead`` of them being decoded at any time."""

    def __init__(self, frames: Sequence[Frame], pool: ProcessPoolExecutor | None, lookahead: int, start: int = 0):
        self.frames = frames
        self.pool = pool
        self.lookahead = max(1, lookahead)
        self.next_index = start
        self.pending: deque[Future | np.ndarray] = deque()
        self._fill()

    def _submit(self, frame: Frame):
        if isinstance(frame, np.ndarray):
            return frame
        if self.pool is None:
            return None   # decoded on demand in this process
        return self.pool.submit(read_rgb, str(frame))

    def _fill(self) -> None:
        while len(self.pending) < self.lookahead and self.next_index + len(self.pending) < len(self.frames):
            self.pending.append(self._submit(self.frames[self.next_index + len(self.pending)]))

    def next(self) -> np.ndarray:
        item = self.pending.popleft()
        frame = self.frames[self.next_index]
        self.next_index += 1
        self._fill()
        if isinstance(item, np.ndarray):
            return item
        if item is None:
            return read_rgb(frame)
        return item.result()

    def close(self) -> None:
        for item in self.pending:
            if isinstance(item, Future):
                item.cancel()
        self.pending.clear()


class FramePool:
    """``feed(frames)`` gives a :class:`FrameFeed`; ``workers=0`` decodes in this process."""

    def __init__(self, workers: int | None = None, lookahead: int = 4, host_compute: bool = False):
        self.workers = default_decode_workers(host_compute) if workers is None or workers < 0 else int(workers)
        self.lookahead = lookahead
        self.pool: ProcessPoolExecutor | None = None
        if self.workers > 0:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=one_opencv_thread)

    def feed(self, frames: Sequence[Frame], start: int = 0) -> FrameFeed:
        return FrameFeed(frames, self.pool, self.lookahead, start)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> "FramePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
