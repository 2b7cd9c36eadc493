"""OTB2015 and any folder of OTB-format sequences, discovered by scanning.

Conventions (OTB2015 as released, named as got10k names it):

* A sequence folder holds ``img/`` and one or more ``groundtruth_rect*.txt``. Empty GT files
  are dropped (Human4's ``groundtruth_rect.1.txt``). A folder with several non-empty files
  gives one target per file, named got10k-style ``<Folder>.<k>`` (``Jogging.1``); a folder with
  one gives ``<Folder>`` (so Human4's second target is ``Human4``). The ``sequences`` filter also
  accepts the official ``Jogging-1`` / ``Human4-2`` spellings.
* GT lines: 4 numbers split by commas, tabs, spaces or any mix; blank lines ignored. A line
  that does not parse to 4 finite numbers is an error naming the file and line. Zero or
  negative sizes are kept (the metrics handle them), except on the first line, which
  initialises the tracker.
* Images are numbered (any digit count: Board's ``%05d``), possibly from an offset
  (BlurCar1 starts at 0247). The annotated images are ``start .. start + len(gt) - 1`` where
  ``start`` is the table :data:`ANNOTATION_START` (David's GT starts at image 300) or else the
  first image number; trailing extra images (Football1, Freeman3/4, Diving) are ignored, and a
  missing image is an error naming the GT file.
* Tiger1: got10k's convention, all 354 frames. ``tiger1_init_omit=True`` follows the OTB
  toolkit and drops the first 5.
* Frames decode as RGB; grayscale JPEGs become 3 channels.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from .otb_attributes import attributes_of
from ..paths import not_found

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
# First annotated image number where it differs from the first image on disk (OTB2015).
ANNOTATION_START: dict[str, int] = {"David": 300, "BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18}
TIGER1_INIT_OMIT = 5
_SPLIT = re.compile(r"[,\s]+")
_GT_INDEX = re.compile(r"^groundtruth_rect(?:\.(\d+))?\.txt$")


class OTBFormatError(ValueError):
    """An OTB file that cannot be read as the format says; the message names the file."""


@dataclass(frozen=True)
class OTBSequence:
    name: str
    folder: Path
    gt_file: Path
    img_files: tuple[Path, ...]
    gt: np.ndarray                       # (N, 4) 1-based x, y, w, h
    attributes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.img_files)

    def frame(self, index: int) -> np.ndarray:
        return read_rgb(self.img_files[index])


def read_rgb(path: str | Path) -> np.ndarray:
    """RGB uint8 HxWx3 whatever the file's channels.

    A missing file raises FileNotFoundError; one that does not decode, or a JPEG without its
    end marker (OpenCV would decode it with a grey bottom and only a warning), raises
    :class:`OTBFormatError`. Both messages name the file.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot read image {path}: no such file") from None
    if Path(path).suffix.lower() in (".jpg", ".jpeg") and data[:2] == b"\xff\xd8" \
            and b"\xff\xd9" not in data[-64:]:
        raise OTBFormatError(f"cannot read image {path}: truncated JPEG (no end marker, {len(data)} bytes)")
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if bgr is None:
        raise OTBFormatError(f"cannot read image {path}: not a decodable image ({len(data)} bytes)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def parse_groundtruth(path: str | Path, allow_nan: bool = False) -> np.ndarray:
    """(N, 4) float boxes from any-delimiter lines; errors name the file and the line.

    ``allow_nan``: rows of ``NaN`` (UAV123 marks a target out of view so) are kept after the
    first line; OTB has none, so there they are an error.
    """
    path = Path(path)
    rows: list[list[float]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        fields = [f for f in _SPLIT.split(text) if f]
        if len(fields) != 4:
            raise OTBFormatError(f"{path}:{number}: expected 4 numbers x,y,w,h, got {len(fields)}: {text!r}")
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise OTBFormatError(f"{path}:{number}: not a number in {text!r}") from None
        if any(math.isinf(v) for v in values) or (any(math.isnan(v) for v in values)
                                                   and not (allow_nan and rows)):
            raise OTBFormatError(f"{path}:{number}: NaN or infinite value in {text!r}")
        rows.append(values)
    if not rows:
        raise OTBFormatError(f"{path}: no ground-truth lines")
    gt = np.asarray(rows, dtype=np.float64)
    if gt[0, 2] <= 0 or gt[0, 3] <= 0:
        raise OTBFormatError(f"{path}: first box {rows[0]} has no area; it must initialise the tracker")
    return gt


def _numbered_images(img_dir: Path) -> dict[int, Path]:
    images: dict[int, Path] = {}
    for p in img_dir.iterdir() if img_dir.is_dir() else ():
        if p.suffix.lower() in IMAGE_SUFFIXES and p.stem.isdigit():
            images[int(p.stem)] = p
    return images


def _gt_files(folder: Path) -> list[tuple[str, Path]]:
    """(target suffix, file) for the non-empty GT files; suffix "" for a single target."""
    found = []
    for p in sorted(folder.glob("groundtruth_rect*.txt")):
        match = _GT_INDEX.match(p.name)
        if match and p.read_text(encoding="utf-8", errors="replace").strip():
            found.append((match.group(1) or "", p))
    if len(found) == 1:
        return [("", found[0][1])]
    return [(k or str(i + 1), p) for i, (k, p) in enumerate(found)]


def canonical_name(name: str) -> str:
    """Official ``Jogging-1`` / ``Human4-2`` spellings -> the loader's names."""
    if name == "Human4-2":
        return "Human4"
    match = re.match(r"^(.*?)[-_.](\d)$", name)
    return f"{match.group(1)}.{match.group(2)}" if match else name


def _load_target(name: str, folder: Path, gt_file: Path, images: dict[int, Path],
                 tiger1_init_omit: bool) -> OTBSequence:
    gt = parse_groundtruth(gt_file)
    if not images:
        raise OTBFormatError(f"{gt_file}: no numbered images in {folder / 'img'}")
    start = ANNOTATION_START.get(folder.name, min(images))
    wanted = range(start, start + len(gt))
    missing = [n for n in wanted if n not in images]
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise OTBFormatError(f"{gt_file}: {len(gt)} GT lines need images {start}..{wanted[-1]} "
                             f"but {len(missing)} are missing in {folder / 'img'} (numbers {shown})")
    files = tuple(images[n] for n in wanted)
    if folder.name == "Tiger1" and tiger1_init_omit:
        files, gt = files[TIGER1_INIT_OMIT:], gt[TIGER1_INIT_OMIT:]
    attrs_file = folder / "attrs.txt"
    attrs = tuple(a.strip() for a in attrs_file.read_text().split(",") if a.strip()) if attrs_file.exists() \
        else attributes_of(name)
    return OTBSequence(name, folder, gt_file, files, gt, attrs)


class OTBDataset:
    """Every OTB-format target under ``root`` (sorted by name), optionally filtered.

    ``sequences``: names to keep (``Jogging.1`` or ``Jogging-1``); an unknown name is an error.
    A per-folder ``attrs.txt`` (jwlim format, ``SV, DEF``) overrides the OTB2015 table.
    """

    def __init__(self, root: str | Path, sequences: Sequence[str] | None = None, tiger1_init_omit: bool = False):
        self.root = Path(root)
        if not self.root.is_dir():
            raise not_found("OTB root folder", self.root, "otb")
        targets: dict[str, tuple[Path, Path]] = {}
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for suffix, gt_file in _gt_files(folder):
                targets[f"{folder.name}.{suffix}" if suffix else folder.name] = (folder, gt_file)
        if not targets:
            raise not_found("no groundtruth_rect*.txt in the sequence folders of the OTB root", self.root / "*" / "groundtruth_rect.txt", "otb")
        if sequences is not None:
            wanted = [s if s in targets else canonical_name(s) for s in sequences]
            unknown = [s for s, c in zip(sequences, wanted) if c not in targets]
            if unknown:
                raise KeyError(f"unknown OTB sequence(s) {unknown} in {self.root}; available: {sorted(targets)}")
            targets = {c: targets[c] for c in dict.fromkeys(wanted)}
        self._targets = targets
        self._images: dict[Path, dict[int, Path]] = {}
        self.tiger1_init_omit = tiger1_init_omit
        self._cache: dict[str, OTBSequence] = {}

    @property
    def names(self) -> list[str]:
        return list(self._targets)

    def folder_of(self, name: str) -> str:
        """The sequence folder a target comes from (``Jogging.1`` -> ``Jogging``)."""
        return self._targets[name if name in self._targets else canonical_name(name)][0].name

    def __len__(self) -> int:
        return len(self._targets)

    def __getitem__(self, key: int | str) -> OTBSequence:
        if isinstance(key, int):
            name = self.names[key]
        else:
            name = key if key in self._targets else canonical_name(key)
        if name not in self._cache:
            folder, gt_file = self._targets[name]
            if folder not in self._images:
                self._images[folder] = _numbered_images(folder / "img")
            self._cache[name] = _load_target(name, folder, gt_file, self._images[folder], self.tiger1_init_omit)
        return self._cache[name]

    def __iter__(self) -> Iterator[OTBSequence]:
        return (self[name] for name in self.names)
