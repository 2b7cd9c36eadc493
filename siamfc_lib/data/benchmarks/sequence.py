"""What every benchmark reader gives: named sequences of frames with ground truth, found by scanning.

A reader finds its sequences (names and where their files are) cheaply when it opens, and
parses a sequence's files only when the sequence is asked for, so opening LaSOT or GOT-10k is
quick and a malformed file fails naming itself when it is reached. The sequence type has what
tracking, scoring and the viewer use: ``name``, ``img_files``, ``gt`` (``(N, 4)`` 1-based
``x, y, w, h``, as got10k's toolkit reads every one of these benchmarks; ``NaN`` rows where a
benchmark marks the target absent), ``attributes`` and the benchmark's own per-frame labels in
``meta``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from ..otb import IMAGE_SUFFIXES, OTBFormatError, read_rgb


class BenchmarkFormatError(OTBFormatError):
    """A benchmark file that cannot be read as its format says; the message names the file."""


@dataclass(frozen=True)
class BenchmarkSequence:
    name: str
    folder: Path
    gt_file: Path
    img_files: tuple[Path, ...]
    gt: np.ndarray                      # (N, 4) 1-based x, y, w, h; GOT-10k test: the first row only
    attributes: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict, compare=False)   # per-frame labels, resolution, ...

    def __len__(self) -> int:
        return len(self.img_files)

    def frame(self, index: int) -> np.ndarray:
        return read_rgb(self.img_files[index])


def numbered_images(folder: Path) -> dict[int, Path]:
    """``{number: path}`` of the images named by a number (any digit count) in ``folder``."""
    if not folder.is_dir():
        return {}
    return {int(p.stem): p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.stem.isdigit()}


def frame_run(images: dict[int, Path], start: int, count: int, what: Path) -> tuple[Path, ...]:
    """The images numbered ``start .. start + count - 1``; a missing one is an error naming ``what``."""
    wanted = range(start, start + count)
    missing = [n for n in wanted if n not in images]
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise BenchmarkFormatError(f"{what}: {count} annotated frames need images {start}..{start + count - 1}, "
                                   f"but {len(missing)} are missing (numbers {shown})")
    return tuple(images[n] for n in wanted)


def read_flags(path: Path, frames: int, one_line: bool = False) -> np.ndarray:
    """Per-frame integer labels: one per line (GOT-10k's ``*.label``) or comma-separated on one line
    (LaSOT's ``full_occlusion.txt``); the count must equal ``frames``."""
    if not path.exists():
        raise BenchmarkFormatError(f"{path}: missing (one label per frame expected)")
    text = path.read_text(encoding="utf-8", errors="replace")
    fields = [f for f in (text.replace("\n", ",").split(",") if one_line else text.split()) if f.strip()]
    try:
        values = np.asarray([int(float(f)) for f in fields], dtype=np.int64)
    except ValueError:
        raise BenchmarkFormatError(f"{path}: labels must be integers") from None
    if len(values) != frames:
        raise BenchmarkFormatError(f"{path}: {len(values)} labels for {frames} frames")
    return values


class SequenceSet:
    """Named sequences in a fixed order, read on demand; ``sequences`` keeps only the named ones.

    Subclasses call :meth:`_index` with ``{name: loader}`` (the loader parses one sequence).
    """

    title = "benchmark"

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._loaders: dict[str, Callable[[], BenchmarkSequence]] = {}
        self._cache: dict[str, BenchmarkSequence] = {}

    def _index(self, loaders: dict[str, Callable[[], BenchmarkSequence]], sequences: Sequence[str] | None,
               expected: str) -> None:
        if not loaders:
            raise FileNotFoundError(f"no {self.title} sequence under {self.root}; expected {expected}")
        if sequences is not None:
            unknown = [s for s in sequences if s not in loaders]
            if unknown:
                raise KeyError(f"unknown {self.title} sequence(s) {unknown} in {self.root}; "
                               f"available: {sorted(loaders)[:20]}{' ...' if len(loaders) > 20 else ''}")
            loaders = {s: loaders[s] for s in dict.fromkeys(sequences)}
        self._loaders = loaders

    @property
    def names(self) -> list[str]:
        return list(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)

    def __getitem__(self, key: int | str) -> BenchmarkSequence:
        name = self.names[key] if isinstance(key, int) else key
        if name not in self._cache:
            if name not in self._loaders:
                raise KeyError(f"unknown {self.title} sequence {name!r}")
            self._cache[name] = self._loaders[name]()
        return self._cache[name]

    def __iter__(self) -> Iterator[BenchmarkSequence]:
        return (self[name] for name in self.names)
