"""How many CPU cores a process may use, and worker processes that use one; no torch import here,
so curation and packing stay light."""
from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores in this process's affinity mask (a batch scheduler's share), else the CPU count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):   # macOS, Windows
        return max(1, os.cpu_count() or 1)


def one_opencv_thread() -> None:
    """Pool initializer: OpenCV on one thread, so N workers use N cores (and a baseline's fps is
    one core's). Call it in a spawned process, before OpenCV runs: set in a child forked from a
    parent whose OpenCV pool has run, it deadlocks."""
    import cv2

    cv2.setNumThreads(1)


def cpu_model() -> str:
    """The CPU's name ("AMD EPYC 7B13"), for figures that hold only on that CPU."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()
