"""Tiny OTB-format sequences written on the fly: a textured square moving over a flat background."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def moving_target_frames(n: int, size=(96, 128), box=(30, 20, 24, 20), step=(2, 1), seed: int = 0):
    """RGB frames and 1-based OTB boxes of a random-texture patch moving by ``step`` per frame (period 30)."""
    rng = np.random.default_rng(seed)
    h, w = size
    patch = rng.integers(0, 255, (box[3], box[2], 3), dtype=np.uint8)
    frames, gts = [], []
    for i in range(n):
        x0 = box[0] - 1 + step[0] * (i % 30)
        y0 = box[1] - 1 + step[1] * (i % 30)
        img = np.full((h, w, 3), (90, 120, 150), dtype=np.uint8)
        img[y0:y0 + box[3], x0:x0 + box[2]] = patch
        frames.append(img)
        gts.append([x0 + 1, y0 + 1, box[2], box[3]])
    return frames, np.asarray(gts, dtype=np.float64)


def write_sequence(root: Path, folder: str, n: int, *, first_number: int = 1, digits: int = 4, extra: int = 0,
                   gt_names=("groundtruth_rect.txt",), delimiter: str = ",", gray: bool = False,
                   gt_lines: list[str] | None = None, seed: int = 0) -> np.ndarray:
    """Write ``n + extra`` images numbered from ``first_number`` and GT files; returns the GT."""
    frames, gt = moving_target_frames(n + extra, seed=seed)
    img_dir = root / folder / "img"
    img_dir.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        path = img_dir / f"{first_number + i:0{digits}d}.jpg"
        image = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if gray else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(path), image)
    gt = gt[:n]
    lines = gt_lines if gt_lines is not None else [delimiter.join(str(int(v)) for v in row) for row in gt]
    for name in gt_names:
        (root / folder / name).write_text("\n".join(lines) + "\n")
    return gt
