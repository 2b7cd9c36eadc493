"""GOT-10k (Huang et al., TPAMI 2019) as its publisher ships it, the layout got10k's toolkit reads.

::

    GOT-10k/{train,val,test}/list.txt                 the sequence names, in order
    GOT-10k/<subset>/GOT-10k_Val_000001/00000001.jpg  8-digit frames, directly in the folder
        groundtruth.txt       x,y,w,h per frame, comma-separated; test: the FIRST frame only
        absence.label         1 where the target is absent (one label per line)
        cover.label           visible-ratio level per frame, 0 (not visible) .. 8 (fully visible)
        cut_by_image.label    1 where the image border cuts the target
        meta_info.ini         a header line, then ``key: value`` lines; ``resolution: (W, H)``

``benchmark_root`` may be the ``GOT-10k`` folder or the subset folder itself. The test set's
boxes are hidden: a test sequence has one ground-truth row and no labels, and only the
evaluation server scores it. The val protocol (got10k ``ExperimentGOT10k.report``) needs the
cover labels (frames with ``cover == 0`` are not scored) and the resolution (IoU of boxes
clipped to the image), so both are read here.
"""
from __future__ import annotations

import ast
from functools import partial
from pathlib import Path
from typing import Sequence

import numpy as np

from ..otb import parse_groundtruth
from .sequence import BenchmarkFormatError, BenchmarkSequence, SequenceSet, numbered_images, read_flags

SUBSETS = ("train", "val", "test")
LABELS = ("absence", "cover", "cut_by_image")
COVER_LEVELS = 8          # cover.label: 0 = not visible .. 8 = fully visible
EXPECTED = "GOT-10k/<subset>/list.txt and GOT-10k/<subset>/<sequence>/00000001.jpg + groundtruth.txt"


def subset_folder(root: str | Path, subset: str) -> Path:
    """``root/<subset>`` or ``root`` itself when it is that subset's folder (it holds list.txt)."""
    if subset not in SUBSETS:
        raise ValueError(f"unknown GOT-10k subset {subset!r}; choose from {SUBSETS}")
    root = Path(root)
    if (root / subset / "list.txt").is_file():
        return root / subset
    if root.name == subset and (root / "list.txt").is_file():
        return root
    raise FileNotFoundError(f"no GOT-10k {subset} split: {root / subset / 'list.txt'} does not exist; "
                            f"expected {EXPECTED}")


def sequence_names(folder: Path) -> list[str]:
    """``list.txt``'s names, in order (blank lines and surrounding spaces ignored)."""
    return [line.strip() for line in (folder / "list.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


def read_meta_info(path: Path) -> dict[str, str]:
    """``meta_info.ini``: the first line is a header, then ``key: value`` lines."""
    if not path.exists():
        return {}
    meta = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        key, sep, value = line.partition(": ")
        if sep:
            meta[key.strip()] = value.strip()
    return meta


def resolution_of(meta: dict[str, str], path: Path) -> tuple[int, int]:
    try:
        width, height = ast.literal_eval(meta["resolution"])
        return int(width), int(height)
    except (KeyError, ValueError, SyntaxError, TypeError):
        raise BenchmarkFormatError(f"{path}: no readable 'resolution: (W, H)' line") from None


def read_labels(folder: Path, frames: int) -> dict[str, np.ndarray]:
    return {name: read_flags(folder / f"{name}.label", frames) for name in LABELS}


def load_sequence(folder: Path, hidden: bool) -> BenchmarkSequence:
    """One sequence; ``hidden`` (the test split): only the first box is known."""
    images = numbered_images(folder)
    if not images:
        raise BenchmarkFormatError(f"{folder}: no numbered frames (00000001.jpg ...)")
    numbers = sorted(images)
    files = tuple(images[n] for n in numbers)
    gt = parse_groundtruth(folder / "groundtruth.txt", allow_nan=True)
    meta: dict = read_meta_info(folder / "meta_info.ini")
    if hidden:
        gt = gt[:1]
    else:
        if len(gt) != len(files):
            raise BenchmarkFormatError(f"{folder / 'groundtruth.txt'}: {len(gt)} boxes for {len(files)} frames")
        meta.update(read_labels(folder, len(files)))
        meta["resolution_wh"] = resolution_of(meta, folder / "meta_info.ini")
    return BenchmarkSequence(folder.name, folder, folder / "groundtruth.txt", files, gt, (), meta)


class GOT10kDataset(SequenceSet):
    """One GOT-10k split: ``val`` and ``train`` with their labels, ``test`` with hidden boxes."""

    def __init__(self, root: str | Path, subset: str = "val", sequences: Sequence[str] | None = None):
        super().__init__(root)
        self.subset = subset
        self.title = f"GOT-10k {subset}"
        self.folder = subset_folder(root, subset)
        hidden = subset == "test"
        self._index({name: partial(load_sequence, self.folder / name, hidden) for name in sequence_names(self.folder)},
                     sequences, EXPECTED)
        absent = [n for n in self.names if not (self.folder / n).is_dir()]
        if absent:
            raise FileNotFoundError(f"{self.folder / 'list.txt'} names {len(absent)} sequence(s) with no folder: "
                                    f"{absent[:5]}")
