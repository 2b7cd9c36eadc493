"""Progress that works in JupyterLab, under papermill and in a terminal.

A tqdm bar (widget in JupyterLab, text elsewhere) when ``enabled``; otherwise a plain log
line every ``log_every_s`` seconds, because bars do not update in papermill output notebooks.
Rates read in the work's own unit (frames/s, pairs/s) or seconds per item, never ``0.0/s``.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")


def bars_enabled(enabled: bool | None = None) -> bool:
    """None: bars in a terminal and in JupyterLab, none under CI or papermill.

    JupyterLab's server names the kernel's session (``JPY_SESSION_NAME``); papermill starts
    kernels directly, without one, so its output notebooks get plain log lines instead of
    frozen widgets.
    """
    if enabled is not None:
        return enabled
    if os.environ.get("CI") or os.environ.get("SIAMFC_NO_PROGRESS"):
        return False
    if "ipykernel" in sys.modules:
        return bool(os.environ.get("JPY_SESSION_NAME"))
    return sys.stderr.isatty()


def rate_text(count: float, seconds: float, unit: str) -> str:
    """``12.3 frames/s``, or ``8.4 s/sequence`` when fewer than one per second (never ``0.0/s``)."""
    if count <= 0 or seconds <= 0:
        return f"- {unit}s/s"
    rate = count / seconds
    return f"{rate:.1f} {unit}s/s" if rate >= 1 else f"{seconds / count:.1f} s/{unit}"


class Progress:
    """A bar, or a log line every ``log_every_s`` seconds where no bar shows, over counted work.

    ``update(items, work)`` after each piece: ``items`` in ``unit`` (sequences, batches), the
    ``work`` inside them in ``work_unit`` (frames, pairs), so the rate reads in frames/s. The bar
    counts items. With a ``total`` of items the log line also says about how long is left.
    """

    def __init__(self, total: int | None = None, desc: str = "", enabled: bool | None = None,
                 log_every_s: float = 15.0, log: Callable[[str], None] | None = None, unit: str = "item",
                 work_unit: str = ""):
        self.total, self.desc, self.unit, self.work_unit = total, desc, unit, work_unit
        self.log_every_s = log_every_s
        self.log = log if log is not None else (lambda line: print(line, flush=True))
        self.bar = None
        if bars_enabled(enabled):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, leave=True, unit=f" {unit}")
        self.start = self.last = time.perf_counter()
        self.done = self.work = 0

    def update(self, items: int = 1, work: int = 0) -> None:
        self.done += items
        self.work += work
        if self.bar is not None:
            self.bar.update(items)
            return
        now = time.perf_counter()
        if now - self.last < self.log_every_s:
            return
        self.last = now
        elapsed = now - self.start
        of = f"/{self.total}" if self.total else ""
        rate = rate_text(self.work, elapsed, self.work_unit) if self.work_unit else rate_text(self.done, elapsed, self.unit)
        left = ""
        if self.total and 0 < self.done < self.total:
            left = f", about {elapsed * (self.total - self.done) / self.done:.0f} s left"
        self.log(f"{self.desc}: {self.done}{of} {self.unit}s ({rate}, {elapsed:.0f} s elapsed{left})")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track(iterable: Iterable[T], total: int | None = None, desc: str = "", enabled: bool | None = None,
          log_every_s: float = 15.0, log=None, unit: str = "item",
          size: Callable[[T], int] | None = None, size_unit: str = "") -> Iterator[T]:
    """Yield from ``iterable`` with a :class:`Progress` counting one item per element.

    ``unit`` names the items (``sequence``); ``size(item)`` counts the work inside one
    (frames of a sequence, pairs of a batch), in ``size_unit``, so the rate reads in frames/s.
    With a bar the log lines are left out: the bar already says it, and a logger printing
    under a widget bar only repeats it.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, desc, enabled, log_every_s, log, unit, size_unit if size is not None else "") as meter:
        for item in iterable:
            yield item
            meter.update(1, size(item) if size is not None else 0)
