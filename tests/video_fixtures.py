"""Video files made on the fly for the video tests, with the quirks of real ones patched in by hand."""
from __future__ import annotations

import itertools
import struct
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
import torch

from siamfc_lib.data.video_writer import VideoWriter
from siamfc_lib.model import build_model
from siamfc_lib.training.checkpoints import save_checkpoint


def tiny_checkpoint(run_dir: Path, width: float = 0.25) -> Path:
    """A seeded untrained network saved as a training run's checkpoint (what 03 writes)."""
    torch.manual_seed(0)
    return save_checkpoint(run_dir, 0, {"model": build_model(width=width).state_dict(), "width": width,
                                        "head_bias": True})


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float = 10.0, times: list[float] | None = None,
                lossless: bool = False) -> Path:
    """Frames (a list, or a generator for long videos) to ``path``; the written path."""
    frames = iter(frames)
    first = next(frames)
    h, w = first.shape[:2]
    with VideoWriter(path, w, h, fps, lossless=lossless) as writer:
        for i, frame in enumerate(itertools.chain([first], frames)):
            writer.write(frame, times[i] if times is not None else i / fps)
    return writer.path


def rotate_mp4_display(src: Path, dst: Path) -> Path:
    """Copy of an MP4 whose track header ('tkhd') matrix says: show it turned 90 degrees clockwise.

    ISO/IEC 14496-12 stores a 3x3 matrix {a, b, u, c, d, v, x, y, w} (16.16 fixed point, u v w
    2.30); a phone's portrait clip carries a = 0, b = 1, c = -1, d = 0.
    """
    data = bytearray(src.read_bytes())
    at = data.find(b"tkhd")
    version = data[at + 4]
    matrix = at + 4 + 4 + (32 if version == 1 else 20) + 8 + 8   # version/flags, times..duration, reserved, layer..
    identity = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    assert bytes(data[matrix:matrix + 36]) == identity, "unexpected tkhd layout"
    data[matrix:matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    dst.write_bytes(bytes(data))
    return dst


def unknown_codec_avi(path: Path) -> Path:
    """An AVI whose video FOURCC no decoder knows (a camera's proprietary codec, say)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(3):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    data = path.read_bytes()
    assert data.count(b"MJPG") >= 1
    path.write_bytes(data.replace(b"MJPG", b"QQZZ"))
    return path
