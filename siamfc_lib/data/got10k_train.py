"""GOT-10k's train split as a training source: its videos read into the tracks curation cuts crops from.

A GOT-10k video (layout in :mod:`.benchmarks.got10k`) is one target: one track (``trackid`` 0,
its class ``meta_info.ini``'s ``object_class``), frames numbered from 0 like VID's
(``00000001.jpg`` is frame 0), boxes turned into VID corners (``siamfc_lib.boxes``, reading
GOT-10k's ``x, y, w, h`` as got10k's toolkit and siamfc-pytorch do, 1-based like OTB's) so the
rest of curation is VID's own code. Its labels decide which frames give a crop:

* ``absence.label`` 1: the target is not in the frame: ``box.absent``, skipped;
* ``cover.label`` 0 while present: nothing of it is visible: ``box.not_visible``, skipped;
* ``cover`` below full (8): kept, flagged ``occluded`` (the manifest's column, as VID's flag);
* ``cut_by_image.label`` 1: kept (the crop is padded with the frame's mean colour beyond the
  border, as for VID boxes at the border) and counted under ``flagged``, so the sampler can
  leave such frames out later without curating again.

Only the train split is a source: GOT-10k's protocol keeps val and test out of training.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from ..boxes import otb_to_vid_corners
from ..paths import not_found
from .benchmarks.got10k import COVER_LEVELS, LABELS, read_meta_info, resolution_of, sequence_names
from .benchmarks.sequence import numbered_images, read_flags
from .otb import OTBFormatError, parse_groundtruth
from .vid import BoxFilter, VidFormatError, VideoRef, VidTrack, VidVideo, box_reject_reason

SUBSET = "got10k-train"      # the manifest's subset of GOT-10k videos (VID's are "train" and "val")
EXPECTED_LAYOUT = "<got10k_root>/train/list.txt and <got10k_root>/train/GOT-10k_Train_000001/00000001.jpg"


def find_got10k_videos(got10k_root: str | Path) -> list[VideoRef]:
    """Every video of ``list.txt`` in ``<got10k_root>/train`` (or ``got10k_root`` being that folder)."""
    root = Path(got10k_root)
    folder = root / "train" if (root / "train" / "list.txt").is_file() else root
    if not (folder / "list.txt").is_file():
        raise not_found("GOT-10k train split", root / "train" / "list.txt", "got10k", VidFormatError,
                        f"; expected {EXPECTED_LAYOUT}")
    names = sequence_names(folder)
    if not names:
        raise VidFormatError(f"{folder / 'list.txt'} names no video; expected {EXPECTED_LAYOUT}")
    return [VideoRef(name, SUBSET, folder / name, folder / name, "got10k") for name in names]


def _frame_box(row: np.ndarray, label: dict[str, int], frame_size: list[int],
               flt: BoxFilter) -> tuple[list[float] | None, str | None]:
    """``(VID corners, None)`` for a frame that gives a crop, else ``(None, skip reason)``."""
    if label["absence"]:
        return None, "box.absent"
    if label["cover"] <= 0:
        return None, "box.not_visible"
    if not np.isfinite(row).all():
        return None, "box.missing"
    corners = [float(v) for v in otb_to_vid_corners(row)]
    reason = box_reject_reason(corners, frame_size, 0, flt)
    return (None, reason) if reason else (corners, None)


def _annotations(ref: VideoRef, frames: int) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, str]]:
    gt = parse_groundtruth(ref.image_dir / "groundtruth.txt", allow_nan=True)
    if len(gt) != frames:
        raise OTBFormatError(f"{ref.image_dir / 'groundtruth.txt'}: {len(gt)} boxes for {frames} frames")
    labels = {name: read_flags(ref.image_dir / f"{name}.label", frames) for name in LABELS}
    return gt, labels, read_meta_info(ref.image_dir / "meta_info.ini")


def read_got10k_video(ref: VideoRef, flt: BoxFilter = BoxFilter()) -> VidVideo:
    """One GOT-10k video as a VID-like video of one track; nothing is fatal (a bad file skips the video)."""
    images = numbered_images(ref.image_dir)
    numbers = sorted(images)
    skipped, flagged = Counter(), Counter()
    try:
        gt, labels, meta = _annotations(ref, len(numbers))
        width, height = resolution_of(meta, ref.image_dir / "meta_info.ini")
    except (OTBFormatError, OSError) as exc:
        skipped["video.malformed_annotation"] += 1
        return VidVideo(ref, [0, 0], [], {}, skipped, [(str(ref.image_dir), f"video.malformed_annotation: {exc}")])
    track = VidTrack(0, meta.get("object_class", "got10k") or "got10k")
    files = {}
    for index, number in enumerate(numbers):
        label = {name: int(values[index]) for name, values in labels.items()}
        corners, reason = _frame_box(gt[index], label, [width, height], flt)
        if reason:
            skipped[reason] += 1
            continue
        flagged["got10k.cut_by_image"] += label["cut_by_image"]
        track.frames.append(index)
        track.boxes.append(corners)
        track.occluded.append(int(label["cover"] < COVER_LEVELS))
        track.generated.append(0)
        files[index] = images[number]
    tracks = [track] if len(track.frames) >= flt.min_track_frames else []
    if track.frames and not tracks:
        skipped["track.too_short"] += 1
    if not tracks:
        skipped["video.no_valid_track"] += 1
    return VidVideo(ref, [width, height], tracks, files if tracks else {}, skipped, [], +flagged)
