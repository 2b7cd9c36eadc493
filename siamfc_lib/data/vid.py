"""Read an ILSVRC2015-VID root into tracks: one XML per frame, boxes as 0-based corners.

Layout (the ILSVRC2015 devkit's): ``Data/VID/train/ILSVRC2015_VID_train_000N/<snippet>/
%06d.JPEG`` and ``Data/VID/val/<snippet>/%06d.JPEG``; each frame's annotation sits at the same
path with ``Data`` -> ``Annotations`` and ``.JPEG`` -> ``.xml``.

Choices, and why:

* An object that leaves and re-enters keeps **every** frame where its trackid appears (got10k's
  choice): frame numbers are then non-contiguous and pair sampling works on the list of valid
  frames. pysot's split-at-gaps kept only the last piece; pytracking's truncation wastes data.
* Nothing is fatal per frame. Every problem is counted under a reason whose prefix names its
  unit: ``frame.*`` counts frames, ``box.*`` counts boxes, ``track.*`` tracks, ``video.*``
  videos. Reading the JPEG (missing, corrupt) is checked by curation, which decodes anyway.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..boxes import vid_corners_to_cxcywh
from ..paths import not_found

SUBSETS = ("train", "val")
# The 30 VID classes (WNID -> name), in the SiamFC curation's order.
VID_CLASSES: dict[str, str] = {
    "n02691156": "airplane", "n02419796": "antelope", "n02131653": "bear", "n02834778": "bicycle",
    "n01503061": "bird", "n02924116": "bus", "n02958343": "car", "n02402425": "cattle",
    "n02084071": "dog", "n02121808": "domestic_cat", "n02503517": "elephant", "n02118333": "fox",
    "n02510455": "giant_panda", "n02342885": "hamster", "n02374451": "horse", "n02129165": "lion",
    "n01674464": "lizard", "n02484322": "monkey", "n03790512": "motorcycle", "n02324045": "rabbit",
    "n02509815": "red_panda", "n02411705": "sheep", "n01726692": "snake", "n02355227": "squirrel",
    "n02129604": "tiger", "n04468005": "train", "n01662784": "turtle", "n04530566": "watercraft",
    "n02062744": "whale", "n02391049": "zebra",
}
EXPECTED_LAYOUT = ("<vid_root>/Data/VID/train/ILSVRC2015_VID_train_000N/<snippet>/000000.JPEG "
                   "(or Data/VID/val/<snippet>/000000.JPEG) with Annotations/VID/... holding "
                   "000000.xml at the same relative path")


class VidFormatError(FileNotFoundError):
    """The root holds nothing usable as ILSVRC2015-VID."""


@dataclass(frozen=True)
class VideoRef:
    """Where one snippet's frames and annotations live."""
    name: str
    subset: str
    image_dir: Path
    annotation_dir: Path
    kind: str = "vid"          # "got10k": a GOT-10k train video (siamfc_lib.data.got10k_train reads it)


@dataclass(frozen=True)
class BoxFilter:
    """Which boxes count as valid (defaults: keep everything that overlaps the frame)."""
    min_box_size: float = 1.0
    max_aspect: float = 0.0
    skip_generated: bool = False
    skip_outside: bool = True
    min_track_frames: int = 2


@dataclass
class VidTrack:
    trackid: int
    wnid: str
    frames: list[int] = field(default_factory=list)
    boxes: list[list[int]] = field(default_factory=list)      # XML corners xmin, ymin, xmax, ymax
    occluded: list[int] = field(default_factory=list)
    generated: list[int] = field(default_factory=list)


@dataclass
class VidVideo:
    ref: VideoRef
    frame_size: list[int]                                    # [W, H] of the first annotated frame
    tracks: list[VidTrack]
    frame_files: dict[int, Path]                             # frame -> JPEG, frames with valid boxes
    skipped: Counter
    problems: list[tuple[str, str]] = field(default_factory=list)   # (file, why) of each malformed XML
    flagged: Counter = field(default_factory=Counter)   # kept, but worth knowing (GOT-10k's cut_by_image)


def find_videos(vid_root: str | Path, subsets: tuple[str, ...] = SUBSETS) -> list[VideoRef]:
    """Every snippet folder under ``Data/VID/<subset>``, sorted by (subset, name)."""
    root = Path(vid_root)
    if not root.is_dir():
        raise not_found("ILSVRC2015-VID root", root, "vid", VidFormatError, f"; expected {EXPECTED_LAYOUT}")
    refs: list[VideoRef] = []
    for subset in subsets:
        if subset not in SUBSETS:
            raise ValueError(f"unknown VID subset {subset!r}; choose from {SUBSETS}")
        data_dir = root / "Data" / "VID" / subset
        if not data_dir.is_dir():
            continue
        # train snippets sit inside batch folders; val snippets directly under val/.
        parents = sorted(p for p in data_dir.iterdir() if p.is_dir()) if subset == "train" else [data_dir]
        for parent in parents:
            for snippet in sorted(p for p in parent.iterdir() if p.is_dir()):
                rel = snippet.relative_to(root / "Data")
                refs.append(VideoRef(snippet.name, subset, snippet, root / "Annotations" / rel))
    if not refs:
        raise VidFormatError(f"no ILSVRC2015-VID snippets under {root} for subsets {list(subsets)}; "
                             f"expected {EXPECTED_LAYOUT}")
    return refs


def _text_int(node: ET.Element, tag: str) -> int:
    child = node.find(tag)
    if child is None or child.text is None:
        raise ValueError(f"missing <{tag}>")
    return int(float(child.text.strip()))


def parse_frame_xml(path: Path) -> tuple[list[int], list[dict]]:
    """``([W, H], objects)`` of one frame.

    A malformed file (not XML, unknown encoding, missing or non-numeric fields, infinite
    coordinates) raises ValueError whose message starts with the file's path; an unreadable
    one raises OSError. Nothing else escapes.
    """
    try:
        return _parse_frame_xml(path)
    except (ET.ParseError, ValueError, OverflowError, LookupError) as exc:
        text = str(exc)
        raise ValueError(text if text.startswith(f"{path}:") else f"{path}: {text}") from exc


def _parse_frame_xml(path: Path) -> tuple[list[int], list[dict]]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    size = root.find("size")
    if root.tag != "annotation" or size is None:
        raise ValueError(f"{path}: no <annotation><size>")
    frame_size = [_text_int(size, "width"), _text_int(size, "height")]
    objects = []
    for obj in root.findall("object"):
        name = obj.find("name")
        bndbox = obj.find("bndbox")
        if name is None or not (name.text or "").strip() or bndbox is None:
            raise ValueError(f"{path}: <object> without <name> or <bndbox>")
        occluded = obj.find("occluded")
        generated = obj.find("generated")
        objects.append({
            "trackid": _text_int(obj, "trackid"),
            "wnid": name.text.strip(),
            "corners": [_text_int(bndbox, t) for t in ("xmin", "ymin", "xmax", "ymax")],
            "occluded": int((occluded.text or "0").strip()) if occluded is not None else 0,
            "generated": int((generated.text or "0").strip()) if generated is not None else 0,
        })
    return frame_size, objects


def box_reject_reason(corners: list[int], frame_size: list[int], generated: int, flt: BoxFilter) -> str | None:
    """Why a box is not curated, or None when it is valid."""
    _, _, w, h = vid_corners_to_cxcywh(corners)
    if not (w > 0 and h > 0):
        return "box.degenerate"
    if flt.skip_outside:
        xmin, ymin, xmax, ymax = corners
        if xmax < 0 or ymax < 0 or xmin > frame_size[0] - 1 or ymin > frame_size[1] - 1:
            return "box.outside_image"
    if w < flt.min_box_size or h < flt.min_box_size:
        return "box.too_small"
    if flt.max_aspect > 0 and max(w / h, h / w) > flt.max_aspect:
        return "box.aspect"
    if flt.skip_generated and generated:
        return "box.generated"
    return None


def _frame_numbers(folder: Path, suffix: str) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    return {int(p.stem): p for p in folder.iterdir() if p.suffix == suffix and p.stem.isdigit()}


def read_video(ref: VideoRef, flt: BoxFilter = BoxFilter()) -> VidVideo:
    """Parse every frame's XML of one snippet into tracks of valid boxes."""
    images = _frame_numbers(ref.image_dir, ".JPEG")
    xmls = _frame_numbers(ref.annotation_dir, ".xml")
    skipped: Counter = Counter()
    tracks: dict[int, VidTrack] = {}
    frame_size: list[int] | None = None
    frame_files: dict[int, Path] = {}
    problems: list[tuple[str, str]] = []
    for frame in sorted(set(images) | set(xmls)):
        if frame not in xmls:
            skipped["frame.missing_xml"] += 1
            continue
        if frame not in images:
            skipped["frame.missing_jpeg"] += 1
            continue
        try:
            size, objects = parse_frame_xml(xmls[frame])
        except (ValueError, OSError) as exc:
            skipped["frame.malformed_xml"] += 1
            problems.append((str(xmls[frame]), f"frame.malformed_xml: {exc}"))
            continue
        frame_size = frame_size or size
        if not objects:
            skipped["frame.no_objects"] += 1
            continue
        seen: set[int] = set()
        for obj in objects:
            if obj["trackid"] in seen:
                skipped["box.duplicate_trackid"] += 1
                continue
            seen.add(obj["trackid"])
            reason = box_reject_reason(obj["corners"], size, obj["generated"], flt)
            if reason:
                skipped[reason] += 1
                continue
            track = tracks.setdefault(obj["trackid"], VidTrack(obj["trackid"], obj["wnid"]))
            track.frames.append(frame)
            track.boxes.append(obj["corners"])
            track.occluded.append(obj["occluded"])
            track.generated.append(obj["generated"])
            frame_files[frame] = images[frame]
    kept = []
    for trackid in sorted(tracks):
        if len(tracks[trackid].frames) >= flt.min_track_frames:
            kept.append(tracks[trackid])
        else:
            skipped["track.too_short"] += 1
    if not kept:
        skipped["video.no_valid_track"] += 1
    return VidVideo(ref, frame_size or [0, 0], kept, frame_files, skipped, problems)
