"""Temple Color 128, TColor128 (Liang, Blasch and Ling, TIP 2015), as its publisher ships it.

::

    Temple-color-128/<Seq>/img/0001.jpg     4-digit frames
    Temple-color-128/<Seq>/<Seq>_gt.txt     x,y,w,h per annotated frame, comma-separated
    Temple-color-128/<Seq>/<Seq>_frames.txt "first,last": the annotated frame range

The quirk: a sequence's annotation covers only the frame range its ``_frames.txt`` names, which
need not start at 1 nor end at the last image, so frames outside it are not tracked (got10k
``TColor128`` reads it so).
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Sequence

from ..otb import parse_groundtruth
from .sequence import BenchmarkFormatError, BenchmarkSequence, SequenceSet, frame_run, numbered_images

EXPECTED = "Temple-color-128/<Seq>/<Seq>_gt.txt, <Seq>_frames.txt and img/0001.jpg"


def read_range(path: Path) -> tuple[int, int]:
    fields = [f for f in path.read_text(encoding="utf-8", errors="replace").replace("\n", ",").split(",") if f.strip()]
    try:
        first, last = (int(float(f)) for f in fields[:2])
    except ValueError:
        raise BenchmarkFormatError(f"{path}: expected 'first,last' frame numbers") from None
    if len(fields) < 2 or last < first:
        raise BenchmarkFormatError(f"{path}: expected 'first,last' frame numbers with first <= last")
    return first, last


def load_sequence(anno: Path) -> BenchmarkSequence:
    folder = anno.parent
    ranges = sorted(folder.glob("*_frames.txt"))
    if not ranges:
        raise BenchmarkFormatError(f"{folder}: no <Seq>_frames.txt (the annotated frame range)")
    first, last = read_range(ranges[0])
    gt = parse_groundtruth(anno)
    if len(gt) != last - first + 1:
        raise BenchmarkFormatError(f"{anno}: {len(gt)} boxes for frames {first}..{last} of {ranges[0].name}")
    files = frame_run(numbered_images(folder / "img"), first, len(gt), ranges[0])
    return BenchmarkSequence(folder.name, folder, anno, files, gt, (), {"frame_range": (first, last)})


class TColor128Dataset(SequenceSet):
    title = "TColor128"

    def __init__(self, root: str | Path, sequences: Sequence[str] | None = None):
        super().__init__(root)
        annos = sorted(self.root.glob("*/*_gt.txt"))
        self._index({a.parent.name: partial(load_sequence, a) for a in annos}, sequences, EXPECTED)
