"""A small ILSVRC2015-VID-format tree for benchmarks (real layout and XML element order).

Not the embedded dataset (that is :mod:`siamfc_lib.data.synthetic`): frames are smooth random
texture and boxes drift linearly; enough to time curation and packing on realistic frame sizes.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .vid import VID_CLASSES
from .vid_xml import VidObject, frame_xml


def write_vid_sample(root: str | Path, videos: int = 8, frames: int = 30, size: tuple[int, int] = (640, 360),
                     objects: int = 2, seed: int = 0, quality: int = 90) -> Path:
    """``videos`` train snippets of ``frames`` frames with ``objects`` drifting boxes each."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    wnids = sorted(VID_CLASSES)
    w, h = size
    for v in range(videos):
        name = f"ILSVRC2015_train_{v:05d}000"
        rel = Path("VID/train/ILSVRC2015_VID_train_0000") / name
        (root / "Data" / rel).mkdir(parents=True, exist_ok=True)
        (root / "Annotations" / rel).mkdir(parents=True, exist_ok=True)
        base = cv2.resize(rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8), (w + 64, h + 64),
                          interpolation=cv2.INTER_CUBIC)
        starts = rng.uniform([0, 0], [w * 0.6, h * 0.6], (objects, 2))
        sizes = rng.uniform([w * 0.1, h * 0.1], [w * 0.35, h * 0.35], (objects, 2))
        drift = rng.uniform(-3, 3, (objects, 2))
        for f in range(frames):
            cv2.imwrite(str(root / "Data" / rel / f"{f:06d}.JPEG"), base[f % 64:f % 64 + h, :w],
                        [cv2.IMWRITE_JPEG_QUALITY, quality])
            boxes = []
            for o in range(objects):
                x0, y0 = np.clip(starts[o] + drift[o] * f, 0, [w - 2, h - 2]).astype(int)
                x1, y1 = np.minimum([x0, y0] + sizes[o], [w - 1, h - 1]).astype(int)
                boxes.append(VidObject(o, wnids[(v + o) % len(wnids)], (int(x0), int(y0), int(x1), int(y1))))
            (root / "Annotations" / rel / f"{f:06d}.xml").write_text(
                frame_xml(f"ILSVRC2015_VID_train_0000/{name}", f"{f:06d}", w, h, boxes))
    return root
