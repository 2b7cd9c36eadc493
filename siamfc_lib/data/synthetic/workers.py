"""Render snippets and sequences on every usable core; each depends only on (seed, config, index),
so the files are the same whatever the worker count."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterator, Sequence, TypeVar

from ...cores import one_opencv_thread, usable_cores

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_in_order(fn: Callable[[Item], Result], items: Sequence[Item], workers: int | None = None) -> Iterator[Result]:
    """``fn`` over ``items``, results in item order; ``fn`` must pickle (a module function or a
    partial of one). Spawned workers with one OpenCV thread each: forking after OpenCV's thread
    pool has run can deadlock."""
    workers = min(usable_cores() if workers is None else workers, len(items))
    if workers <= 1:
        yield from map(fn, items)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=one_opencv_thread) as pool:
        yield from pool.map(fn, items)
