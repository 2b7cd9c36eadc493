"""Smooth random paths over a video's frames: positions, sizes, angles, light levels.

Why sums of slow sinusoids: they are smooth (no teleporting boxes), cheap, fully determined
by the generator, and their amplitude is controlled, so objects stay where we want them.
"""
from __future__ import annotations

import numpy as np


def wander(rng: np.random.Generator, n: int, amplitude: float, cycles: tuple[float, float] = (0.2, 1.4),
           waves: int = 3) -> np.ndarray:
    """A smooth zero-centred path of ``n`` values reaching roughly ``+-amplitude``."""
    t = np.arange(n, dtype=np.float64) / max(n - 1, 1)
    weights = rng.uniform(0.3, 1.0, size=waves)
    weights = weights / weights.sum() * amplitude
    path = np.zeros(n)
    for w in weights:
        freq = rng.uniform(*cycles)
        path += w * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    return path


def pulse(n: int, start: float, stop: float, hold: float = 0.5) -> np.ndarray:
    """0 outside ``[start, stop]`` (fractions of the video), rising smoothly to 1 in the middle.

    ``hold`` is the fraction of the window spent fully at 1: a target pushed by a pulse is
    completely gone for those frames (leave and re-enter, late entry).
    """
    t = np.arange(n, dtype=np.float64) / max(n - 1, 1)
    phase = np.clip((t - start) / max(stop - start, 1e-9), 0, 1)
    ramp = (1 - hold) / 2
    rise = np.clip(phase / max(ramp, 1e-9), 0, 1)
    fall = np.clip((1 - phase) / max(ramp, 1e-9), 0, 1)
    shape = np.minimum(rise, fall)
    return 0.5 - 0.5 * np.cos(np.pi * shape)


def sweep(n: int, start: float, stop: float) -> np.ndarray:
    """Linear -1 -> +1 across ``[start, stop]`` (fractions of the video), continuing beyond it."""
    t = np.arange(n, dtype=np.float64) / max(n - 1, 1)
    return (t - (start + stop) / 2) / max((stop - start) / 2, 1e-9)
