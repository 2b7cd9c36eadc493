"""LaSOT (Fan et al., CVPR 2019), Protocol II: its 280 test sequences, as its publisher ships them.

::

    LaSOT/<class>/<class>-<k>/img/00000001.jpg     8-digit frames (per-class folders: the full release)
    LaSOT/<class>-<k>/img/...                      (the test-only download: no class folder; both are read)
        groundtruth.txt      x,y,w,h per frame, comma-separated
        full_occlusion.txt   ONE line: a comma-separated 0/1 per frame
        out_of_view.txt      ONE line, likewise
        nlp.txt              a sentence describing the target

Where a flag marks the target invisible, the box may be arbitrary, even of negative size: the
publisher says those frames are not annotated ("assigned a random box", HengLan/
LaSOT_Evaluation_Toolkit issue 19). got10k's ``ExperimentLaSOT`` scores every frame whatever the
flags (only NaN rows are skipped), and so does this project; the flags are read, checked and
kept per sequence (``meta``), so a visible-only figure can be computed from them.

The test split is the list LaSOT publishes (``testing_set.txt``; got10k ships the same 280
names in ``lasot.json``): 4 sequences of each of the 70 classes, typed in below.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Sequence

from ..otb import parse_groundtruth
from .sequence import BenchmarkFormatError, BenchmarkSequence, SequenceSet, frame_run, numbered_images, read_flags

_TEST_SPLIT = """
airplane 1 9 13 15  basketball 1 6 7 11  bear 2 4 6 17  bicycle 2 7 9 18  bird 2 3 15 17  boat 3 4 12 17
book 3 10 11 19  bottle 1 12 14 18  bus 2 5 17 19  car 2 6 9 17  cat 1 3 18 20  cattle 2 7 12 13
spider 14 16 18 20  coin 3 6 7 18  crab 3 6 12 18  surfboard 12 4 5 8  cup 1 4 7 17  deer 4 8 10 14
dog 1 7 15 19  guitar 3 8 10 16  person 1 5 10 12  pig 2 10 13 18  rubicCube 1 6 14 19  swing 10 14 17 20
drone 13 15 2 7  pool 12 15 3 7  rabbit 10 13 17 19  racing 10 15 16 20  robot 1 19 5 8  sepia 13 16 6 8
sheep 3 5 7 9  skateboard 16 19 3 8  tank 14 16 6 9  tiger 12 18 4 6  train 1 11 20 7  truck 16 3 6 7
turtle 16 5 8 9  umbrella 17 19 2 9  yoyo 15 17 19 7  zebra 10 14 16 17  elephant 1 12 16 18
goldfish 3 7 8 10  hat 1 2 5 18  kite 4 6 10 15  motorcycle 1 3 9 18  mouse 1 8 9 17  flag 3 9 5 2
frog 3 4 20 9  gametarget 1 2 7 13  hand 2 3 9 16  helmet 5 11 19 13  licenseplate 6 12 13 15
electricfan 1 10 18 20  chameleon 3 6 11 20  crocodile 3 4 10 14  gecko 1 5 16 19  fox 2 3 5 20
giraffe 2 10 13 15  gorilla 4 6 9 13  hippo 1 7 9 20  horse 1 4 12 15  kangaroo 2 5 11 14  leopard 1 7 16 20
lion 1 5 12 20  lizard 1 3 6 13  microphone 2 6 14 16  monkey 3 4 9 17  shark 2 3 5 6  squirrel 8 11 13 19
volleyball 1 13 18 19
"""


def _test_split() -> frozenset[str]:
    names, words = set(), _TEST_SPLIT.split()
    cls = ""
    for word in words:
        if word.isdigit():
            names.add(f"{cls}-{word}")
        else:
            cls = word
    return frozenset(names)


TEST_SEQUENCES = _test_split()
FLAGS = ("full_occlusion", "out_of_view")
EXPECTED = "LaSOT/<class>/<class>-<k>/groundtruth.txt and img/00000001.jpg (or LaSOT/<class>-<k>/...)"


def find_sequences(root: Path) -> dict[str, Path]:
    """``{name: folder}`` of every sequence folder with a groundtruth.txt, either layout."""
    found = {}
    for gt in [*root.glob("*/*/groundtruth.txt"), *root.glob("*/groundtruth.txt")]:
        found.setdefault(gt.parent.name, gt.parent)
    return dict(sorted(found.items()))


def load_sequence(folder: Path) -> BenchmarkSequence:
    gt = parse_groundtruth(folder / "groundtruth.txt", allow_nan=True)
    files = frame_run(numbered_images(folder / "img"), 1, len(gt), folder / "groundtruth.txt")
    meta: dict = {flag: read_flags(folder / f"{flag}.txt", len(gt), one_line=True) for flag in FLAGS}
    meta["absent"] = (meta["full_occlusion"] > 0) | (meta["out_of_view"] > 0)
    nlp = folder / "nlp.txt"
    meta["nlp"] = nlp.read_text(encoding="utf-8", errors="replace").strip() if nlp.exists() else ""
    return BenchmarkSequence(folder.name, folder, folder / "groundtruth.txt", files, gt, (), meta)


class LaSOTDataset(SequenceSet):
    """The Protocol II test sequences found under ``root`` (training-only sequences are left out)."""

    title = "LaSOT"

    def __init__(self, root: str | Path, sequences: Sequence[str] | None = None):
        super().__init__(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"LaSOT root {self.root} does not exist; expected {EXPECTED}")
        found = find_sequences(self.root)
        test = {n: f for n, f in found.items() if n in TEST_SEQUENCES}
        if found and not test:
            raise BenchmarkFormatError(f"{self.root} holds {len(found)} LaSOT sequences but none of the 280 of the "
                                       f"test split (Protocol II), e.g. {sorted(found)[:3]}")
        self.missing = sorted(TEST_SEQUENCES - set(test))      # test sequences not present
        self._index({n: partial(load_sequence, f) for n, f in test.items()}, sequences, EXPECTED)
