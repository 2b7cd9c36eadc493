"""DTB70 (Li and Yeung, AAAI 2017: 70 drone sequences), as its publisher ships it.

::

    DTB70/<Seq>/img/00001.jpg            5-digit frames
    DTB70/<Seq>/groundtruth_rect.txt     x,y,w,h per frame, comma-separated, decimals

Every image of a sequence is annotated (got10k ``DTB70``: ``len(images) == len(boxes)``).
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Sequence

from ..otb import parse_groundtruth
from .sequence import BenchmarkFormatError, BenchmarkSequence, SequenceSet, numbered_images

EXPECTED = "DTB70/<Seq>/groundtruth_rect.txt and img/00001.jpg"


def load_sequence(anno: Path) -> BenchmarkSequence:
    folder = anno.parent
    gt = parse_groundtruth(anno)
    images = numbered_images(folder / "img")
    if len(images) != len(gt):
        raise BenchmarkFormatError(f"{anno}: {len(gt)} boxes for {len(images)} images in {folder / 'img'}")
    files = tuple(images[n] for n in sorted(images))
    return BenchmarkSequence(folder.name, folder, anno, files, gt)


class DTB70Dataset(SequenceSet):
    title = "DTB70"

    def __init__(self, root: str | Path, sequences: Sequence[str] | None = None):
        super().__init__(root)
        annos = sorted(self.root.glob("*/groundtruth_rect.txt"))
        self._index({a.parent.name: partial(load_sequence, a) for a in annos}, sequences, EXPECTED)
