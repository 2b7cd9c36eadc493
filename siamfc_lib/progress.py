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


def track(iterable: Iterable[T], total: int | None = None, desc: str = "", enabled: bool | None = None,
          log_every_s: float = 15.0, log=None, unit: str = "item",
          size: Callable[[T], int] | None = None, size_unit: str = "") -> Iterator[T]:
    """Yield from ``iterable`` with a bar, or a log line every ``log_every_s`` s where no bar shows.

    ``unit`` names the items (``sequence``); ``size(item)`` counts the work inside one
    (frames of a sequence, pairs of a batch), in ``size_unit``, so the rate reads in frames/s.
    With a bar the log lines are left out: the bar already says it, and a logger printing
    under a widget bar only repeats it.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    bar = None
    if bars_enabled(enabled):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, leave=True, unit=f" {unit}")
    if log is None:
        def log(line: str) -> None:
            print(line, flush=True)
    start = last = time.perf_counter()
    done = work = 0
    try:
        for item in iterable:
            yield item
            done += 1
            if size is not None:
                work += size(item)
            if bar is not None:
                bar.update(1)
                continue
            now = time.perf_counter()
            if now - last >= log_every_s:
                last = now
                of = f"/{total}" if total else ""
                rate = rate_text(work, now - start, size_unit) if size is not None else rate_text(done, now - start, unit)
                log(f"{desc}: {done}{of} {unit}s ({rate}, {now - start:.0f} s elapsed)")
    finally:
        if bar is not None:
            bar.close()
