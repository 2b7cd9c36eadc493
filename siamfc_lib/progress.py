"""Progress that works in JupyterLab, under papermill and in a terminal.

A tqdm bar (widget in JupyterLab, text elsewhere) when ``enabled``; always a plain log line
every ``log_every_s`` seconds, because bars do not update in papermill output notebooks.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

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


def track(iterable: Iterable[T], total: int | None = None, desc: str = "", enabled: bool | None = None,
          log_every_s: float = 15.0, log=None) -> Iterator[T]:
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    bar = None
    if bars_enabled(enabled):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, leave=True)
    if log is None:
        def log(line: str) -> None:
            print(line, flush=True)
    start = last = time.perf_counter()
    done = 0
    try:
        for item in iterable:
            yield item
            done += 1
            if bar is not None:
                bar.update(1)
            now = time.perf_counter()
            if now - last >= log_every_s:
                last = now
                rate = done / max(now - start, 1e-9)
                of = f"/{total}" if total else ""
                log(f"{desc}: {done}{of} ({rate:.1f}/s, {now - start:.0f}s elapsed)")
    finally:
        if bar is not None:
            bar.close()
