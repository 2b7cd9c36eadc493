"""Need for Speed, NfS (Kiani Galoogahi et al., ICCV 2017), its 30 fps protocol, as shipped.

::

    NfS/<seq>/30/<seq>.txt          one line per annotated frame, whitespace-separated:
                                    track id, left, top, right, bottom, frame, lost, occluded,
                                    generated, "label"
    NfS/<seq>/30/<seq>/00001.jpg    the 30 fps frames (every 8th frame of the 240 fps video)
    NfS/<seq>/240/...               the 240 fps version, same layout

The 30 fps quirk: the annotations were made on the 240 fps video, and a ``30/`` annotation file
may still hold every 240 fps row (about 8 per frame). The protocol (got10k ``NfS``, which
pytracking and pysot follow) keeps every 8th row when the file has about 8 times as many rows
as there are frames, then cuts a remaining difference of one row or frame off the longer side;
any other mismatch is an error. Boxes are read as got10k reads them: ``x = left``,
``w = right - left``.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Sequence

import numpy as np

from ...boxes import corner_rows_to_xywh
from .sequence import BenchmarkFormatError, BenchmarkSequence, SequenceSet, numbered_images

FPS_RATIO = 8
EXPECTED = "NfS/<seq>/30/<seq>.txt and NfS/<seq>/30/<seq>/00001.jpg"


def parse_annotations(path: Path) -> np.ndarray:
    """``(N, 4)`` x, y, w, h from the VATIC-style rows (columns 2-5: left, top, right, bottom)."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        try:
            rows.append([float(v) for v in fields[1:5]])
        except ValueError:
            raise BenchmarkFormatError(f"{path}:{number}: columns 2-5 must be left top right bottom: {line!r}") from None
        if len(rows[-1]) != 4:
            raise BenchmarkFormatError(f"{path}:{number}: fewer than 5 columns: {line!r}")
    if not rows:
        raise BenchmarkFormatError(f"{path}: no annotation rows")
    return corner_rows_to_xywh(np.asarray(rows, dtype=np.float64))


def align(gt: np.ndarray, files: tuple[Path, ...], path: Path) -> tuple[np.ndarray, tuple[Path, ...], int]:
    """The protocol's alignment of rows and frames; also returns the row step used (1 or 8)."""
    step = 1
    if len(gt) != len(files) and abs(len(gt) / len(files) - FPS_RATIO) < 1:
        gt, step = gt[::FPS_RATIO], FPS_RATIO
    if 0 < abs(len(gt) - len(files)) <= 1:
        n = min(len(gt), len(files))
        gt, files = gt[:n], files[:n]
    if len(gt) != len(files):
        raise BenchmarkFormatError(f"{path}: {len(gt)} annotation rows (after the 240 -> 30 fps step {step}) "
                                   f"for {len(files)} frames")
    return gt, files, step


def load_sequence(anno: Path) -> BenchmarkSequence:
    folder = anno.parent / anno.stem
    images = numbered_images(folder)
    if not images:
        raise BenchmarkFormatError(f"{folder}: no numbered frames (00001.jpg ...)")
    files = tuple(images[n] for n in sorted(images))
    gt, files, step = align(parse_annotations(anno), files, anno)
    if not (gt[0, 2] > 0 and gt[0, 3] > 0):
        raise BenchmarkFormatError(f"{anno}: the first box {gt[0].tolist()} has no area; it initialises the tracker")
    return BenchmarkSequence(anno.stem, folder, anno, files, gt, (), {"row_step": step})


class NfSDataset(SequenceSet):
    """Every ``<seq>/<fps>/<seq>.txt`` under ``root`` (``fps`` 30: the common protocol)."""

    def __init__(self, root: str | Path, fps: int = 30, sequences: Sequence[str] | None = None):
        super().__init__(root)
        self.title = f"NfS ({fps} fps)"
        annos = sorted(self.root.glob(f"*/{fps}/*.txt"))
        self._index({a.stem: partial(load_sequence, a) for a in annos}, sequences, EXPECTED)
