"""An OTB-format sequence rendered as a video file: the demo's "user video", and the tests' known input.

The frames are cut to even sizes where H.264 needs them (the last row or column dropped, so
box coordinates are unchanged) and timed at ``fps``. ``lossless=True`` writes FFV1, whose
decoded frames equal the images, so tracking the video gives the OTB runner's boxes exactly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.otb import OTBDataset, OTBSequence
from ..data.video_writer import VideoWriter, even_size
from ..paths import not_found


def otb_sequence(spec: str | Path) -> OTBSequence:
    """``ROOT/NAME``: target NAME of the OTB-format folder ROOT (``outputs/demo/data/OTB/Board``)."""
    spec = Path(spec)
    if not spec.parent.is_dir():
        raise not_found("OTB root folder", spec.parent, "otb")
    return OTBDataset(spec.parent, [spec.name])[0]


def render_sequence(sequence: OTBSequence, path: str | Path, fps: float = 30.0, lossless: bool = False,
                    max_frames: int | None = None) -> Path:
    """Write ``sequence``'s frames (the first ``max_frames``) to ``path``; returns the written path."""
    first = sequence.frame(0)
    height, width = first.shape[:2]
    size = (width, height) if lossless else even_size(width, height)
    count = len(sequence) if max_frames is None else min(max_frames, len(sequence))
    with VideoWriter(path, *size, fps=fps, lossless=lossless) as writer:
        for i in range(count):
            frame = first if i == 0 else sequence.frame(i)
            writer.write(np.ascontiguousarray(frame[: size[1], : size[0]]), i / fps)
    return writer.path


def render_if_missing(spec: str | Path, path: str | Path, fps: float = 30.0) -> tuple[Path, list[float]]:
    """The demo's video of sequence ``spec`` at ``path`` (rendered once) and its first ground-truth box."""
    sequence = otb_sequence(spec)
    target = Path(path)
    if not target.exists():
        target = render_sequence(sequence, target, fps)
    return target, [float(v) for v in sequence.gt[0]]
