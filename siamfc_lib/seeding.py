"""One run seed, many independent random streams (per worker, epoch and rank).

Streams come from ``numpy.random.SeedSequence`` spawn keys, so two workers or two ranks
never share a stream and a run is reproducible from its seed alone.
"""
from __future__ import annotations

import random
import zlib

import numpy as np
import torch


def _key(part) -> int:
    if isinstance(part, (int, np.integer)):
        return int(part)
    return zlib.crc32(str(part).encode("utf-8"))


def derive_seed(seed: int, *keys) -> int:
    """A 63-bit seed for the stream named by ``keys`` (ints or strings) under ``seed``."""
    seq = np.random.SeedSequence(int(seed), spawn_key=tuple(_key(k) for k in keys))
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(_key(k) for k in keys)))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy's legacy global state and torch (model initialisation)."""
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)
