"""UAV123 and UAV20L (Mueller et al., ECCV 2016) as their publisher ships them.

::

    UAV123/anno/UAV123/<name>.txt        x,y,w,h per frame, comma-separated; NaN,NaN,NaN,NaN where
                                         the target is out of view (got10k's protocol skips those rows)
    UAV123/anno/UAV20L/<name>.txt        the 20 long sequences, each a whole folder
    UAV123/data_seq/UAV123/<folder>/000001.jpg   6-digit frames

UAV123's quirk: 19 long recordings are cut into sub-sequences that share one image folder,
``bird1_1``, ``bird1_2``, ``bird1_3`` all in ``data_seq/UAV123/bird1``, each starting at its own
frame; consecutive pieces overlap by a frame, and some leave gaps (bird1, uav1). The start frames
are the dataset's own table (its ``configSeqs.m``; got10k ships the same in ``uav123.json``),
typed in below; a piece runs for as many frames as its annotation file has lines. Every other
sequence (and every UAV20L one) is its own folder from frame 1.
"""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Sequence

from ..otb import parse_groundtruth
from .sequence import BenchmarkSequence, SequenceSet, frame_run, numbered_images

_SUB_SEQUENCE_STARTS = """
bird1 1 775 1573;  car1 1 751 1627;  car6 1 487 1807 2953 3925;  car8 1 1357;  car16 1 415;
group1 1 1333 2515 3925;  group2 1 907 1771;  group3 1 1567 2827 4369;  person2 1 1189;  person4 1 1501;
person5 1 877;  person7 1 1249;  person8 1 1075;  person12 1 601;  person14 1 847 1813;  person17 1 1501;
person19 1 1243 2791;  truck4 1 577;  uav1 1 1555 2473
"""


def _starts() -> dict[str, tuple[str, int]]:
    """``{sub-sequence: (folder, first frame)}``, e.g. ``bird1_2: (bird1, 775)``."""
    table = {}
    for entry in _SUB_SEQUENCE_STARTS.split(";"):
        folder, *starts = entry.split()
        for k, start in enumerate(starts, 1):
            table[f"{folder}_{k}"] = (folder, int(start))
    return table


SUB_SEQUENCES = _starts()
VERSIONS = ("UAV123", "UAV20L")
EXPECTED = "UAV123/anno/<UAV123|UAV20L>/<name>.txt and UAV123/data_seq/UAV123/<folder>/000001.jpg"


def folder_and_start(name: str, version: str) -> tuple[str, int]:
    """Where a sequence's frames are: its sub-sequence entry, else its own folder from frame 1."""
    if version == "UAV123" and name in SUB_SEQUENCES:
        return SUB_SEQUENCES[name]
    if version == "UAV123" and re.fullmatch(r".+_\d+", name) and name.rsplit("_", 1)[0] in {
            f for f, _ in SUB_SEQUENCES.values()}:
        raise KeyError(f"{name}: a piece of {name.rsplit('_', 1)[0]} that UAV123's start-frame table does not list")
    return name, 1


def load_sequence(root: Path, anno: Path, version: str) -> BenchmarkSequence:
    gt = parse_groundtruth(anno, allow_nan=True)
    folder, start = folder_and_start(anno.stem, version)
    images = root / "data_seq" / "UAV123" / folder
    files = frame_run(numbered_images(images), start, len(gt), anno)
    return BenchmarkSequence(anno.stem, images, anno, files, gt, (), {"first_frame": start})


class UAV123Dataset(SequenceSet):
    """``version``: ``UAV123`` (123 sequences) or ``UAV20L`` (20 long ones), from one root."""

    def __init__(self, root: str | Path, version: str = "UAV123", sequences: Sequence[str] | None = None):
        super().__init__(root)
        if version not in VERSIONS:
            raise ValueError(f"unknown UAV123 version {version!r}; choose from {VERSIONS}")
        self.title = version
        annos = sorted((self.root / "anno" / version).glob("*.txt"))
        self._index({a.stem: partial(load_sequence, self.root, a, version) for a in annos}, sequences, EXPECTED)
