"""Tiny curated datasets (crops + manifest, optional LMDB) for tests and benchmarks.

Why here: tests and ``bench train``/``bench loader`` need curated data in exactly the
on-disk contract of :mod:`siamfc_lib.data.manifest` without running curation. Each video
holds one textured target square at the crop centre (where curation puts it, sized as the
exemplar region implies: side ~ exemplar/2 with context 0.5) over noise, drifting a few
pixels, plus a look-alike distractor of another texture.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..config import LmdbConfig
from ..data.lmdb_pack import pack_lmdb
from ..data.manifest import Manifest, Track, Video, crop_key
from ..seeding import rng as derived_rng

CROP = 255
TARGET = 64


def _texture(gen: np.random.Generator, side: int) -> np.ndarray:
    coarse = gen.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    return cv2.resize(coarse, (side, side), interpolation=cv2.INTER_NEAREST)


def render_crop(gen: np.random.Generator, target: np.ndarray, distractor: np.ndarray,
                offset: tuple[int, int]) -> tuple[np.ndarray, list[float]]:
    """One 255x255 RGB crop and the target's ``[cx, cy, w, h]`` inside it."""
    img = gen.integers(40, 200, size=(CROP, CROP, 3), dtype=np.uint8)
    img = cv2.GaussianBlur(img, (5, 5), 0)
    side = target.shape[0]
    dx, dy = (int(v) for v in gen.integers(20, CROP - side - 20, size=2))
    if abs(dx - (CROP - side) // 2) > side or abs(dy - (CROP - side) // 2) > side:
        img[dy:dy + side, dx:dx + side] = distractor
    x0 = (CROP - side) // 2 + offset[0]
    y0 = (CROP - side) // 2 + offset[1]
    img[y0:y0 + side, x0:x0 + side] = target
    return img, [x0 + (side - 1) / 2, y0 + (side - 1) / 2, float(side), float(side)]


def write_synthetic_curation(root: str | Path, videos: int = 4, frames: int = 6, seed: int = 0,
                             lmdb_path: str | Path | None = None, quality: int = 90,
                             drift: int = 2) -> Manifest:
    """Write ``videos`` x ``frames`` crops and the manifest under ``root``; optionally an LMDB."""
    root = Path(root)
    vids = []
    for v in range(videos):
        gen = derived_rng(seed, "synthetic-crops", v)
        name = f"SYNTH_{v:05d}"
        (root / name).mkdir(parents=True, exist_ok=True)
        target, distractor = _texture(gen, TARGET), _texture(gen, TARGET)
        crop_boxes = []
        for f in range(frames):
            offset = tuple(int(o) for o in gen.integers(-drift, drift + 1, size=2))
            img, box = render_crop(gen, target, distractor, offset)
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                                   [cv2.IMWRITE_JPEG_QUALITY, quality])
            assert ok
            (root / crop_key(name, f, 0)).write_bytes(buf.tobytes())
            crop_boxes.append(box)
        boxes = [[0.0, 0.0, float(TARGET), float(TARGET)] for _ in range(frames)]
        track = Track(0, "n00000000", list(range(frames)), boxes, crop_boxes, [0] * frames, [0] * frames)
        vids.append(Video(name, "train", [CROP * 2, CROP * 2], [track]))
    manifest = Manifest.from_videos(vids, source=f"synthetic_crops(seed={seed})")
    manifest.save(root)
    if lmdb_path is not None:
        pack_lmdb(LmdbConfig(data_path=str(root), lmdb_path=str(lmdb_path), keep_folder=True), progress=False,
                  log=lambda *_: None)
    return manifest
