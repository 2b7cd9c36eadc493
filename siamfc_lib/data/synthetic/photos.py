"""Real photographs shipped inside scikit-image, and object sprites cut from them.

Why these: they install with the library (no network), they are real camera images with
natural texture and noise, and there are enough of them (colour and grey) to give every
synthetic video a different look. Grey photos are tinted so they do not all look alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

# Photos that skimage.data loads from its own package folder (checked offline).
COLOUR_PHOTOS: tuple[str, ...] = (
    "astronaut", "coffee", "chelsea", "rocket", "motorcycle", "hubble_deep_field",
    "immunohistochemistry", "colorwheel",
)
# Photos that make plausible backgrounds (large, scene-like or texture-like).
BACKGROUNDS: tuple[str, ...] = (
    "astronaut", "coffee", "chelsea", "rocket", "motorcycle", "hubble_deep_field",
    "immunohistochemistry", "camera", "brick", "grass", "gravel", "moon", "coins",
)
MAX_SIDE = 640  # larger photos are shrunk once: frames are small, and this keeps warps cheap


def _load(name: str) -> np.ndarray:
    from skimage import data

    if name == "motorcycle":
        image = data.stereo_motorcycle()[0]
    else:
        image = getattr(data, name)()
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    scale = MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


@lru_cache(maxsize=None)
def photo(name: str) -> np.ndarray:
    """The named photo as uint8, RGB (H, W, 3) or grey (H, W); read-only, cached per process."""
    image = _load(name)
    image.setflags(write=False)
    return image


def tinted_rgb(name: str, rng: np.random.Generator) -> np.ndarray:
    """The photo as float32 RGB; grey photos get a random colour tint and a little saturation."""
    image = photo(name).astype(np.float32)
    if image.ndim == 2:
        tint = rng.uniform(0.55, 1.15, size=3).astype(np.float32)
        image = image[..., None] * tint[None, None, :]
    return image


@lru_cache(maxsize=None)
def horse_silhouette() -> np.ndarray:
    """skimage's horse photo silhouette (1 = horse), cropped to the animal: a real object outline."""
    from skimage import data

    mask = (~data.horse()).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    mask = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    mask.setflags(write=False)
    return mask


@dataclass
class Sprite:
    """An object ready to paste: premultiplied colour and coverage, both float32."""

    colour: np.ndarray      # (h, w, 3) RGB already multiplied by alpha, 0..255
    alpha: np.ndarray       # (h, w) 0..1
    source: str             # photo it was cut from
    shape: str              # mask family, kept so look-alikes can reuse it
    where: tuple[float, float] = (0.5, 0.5)   # centre of the cut, as fractions of the photo

    @property
    def rgba(self) -> np.ndarray:
        return np.dstack([self.colour, self.alpha])


MASK_SHAPES: tuple[str, ...] = ("ellipse", "rounded", "blob", "horse")


def make_mask(shape: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A soft-edged (anti-aliased) coverage mask of the given family filling ``width x height``."""
    canvas = np.zeros((height, width), np.uint8)
    if shape == "ellipse":
        box = (((width - 1) / 2, (height - 1) / 2), (float(width - 1), float(height - 1)), 0.0)
        cv2.ellipse(canvas, box, 255, -1, cv2.LINE_AA)
    elif shape == "rounded":
        r = max(1, int(min(width, height) * rng.uniform(0.1, 0.35)))
        cv2.rectangle(canvas, (r, 0), (width - 1 - r, height - 1), 255, -1)
        cv2.rectangle(canvas, (0, r), (width - 1, height - 1 - r), 255, -1)
        for cx, cy in ((r, r), (width - 1 - r, r), (r, height - 1 - r), (width - 1 - r, height - 1 - r)):
            cv2.circle(canvas, (cx, cy), r, 255, -1, cv2.LINE_AA)
    elif shape == "blob":
        angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radius = np.ones_like(angles)
        for k in (2, 3, 4, 5):
            radius += rng.uniform(0, 0.22 / k * 2) * np.cos(k * angles + rng.uniform(0, 2 * np.pi))
        xs, ys = radius * np.cos(angles), radius * np.sin(angles)
        xs = (xs - xs.min()) / (xs.max() - xs.min()) * (width - 1)
        ys = (ys - ys.min()) / (ys.max() - ys.min()) * (height - 1)
        points = np.round(np.stack([xs, ys], 1) * 16).astype(np.int32)
        cv2.fillPoly(canvas, [points], 255, cv2.LINE_AA, shift=4)
    elif shape == "horse":
        canvas = cv2.resize(horse_silhouette() * 255, (width, height), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            canvas = canvas[:, ::-1]
    else:
        raise ValueError(f"unknown mask shape {shape!r}")
    return canvas.astype(np.float32) / 255.0


def cut_sprite(rng: np.random.Generator, source: str, width: int, height: int, shape: str,
               near: tuple[float, float] | None = None) -> Sprite:
    """Cut a ``width x height`` object from photo ``source`` under a mask of family ``shape``.

    ``near`` (fractions of the photo) places the cut close to an earlier one: that is how
    look-alike distractors come from the same part of the same photo as the target.
    """
    image = tinted_rgb(source, rng)
    ph, pw = image.shape[:2]
    # The region in the photo may be bigger or smaller than the sprite: a zoomed texture.
    zoom = rng.uniform(0.7, 1.6)
    cw = int(min(pw - 2, max(8, width * zoom)))
    ch = int(min(ph - 2, max(8, height * zoom)))
    if near is None:
        x0 = int(rng.integers(0, pw - cw + 1))
        y0 = int(rng.integers(0, ph - ch + 1))
    else:
        jitter = rng.uniform(-0.12, 0.12, size=2)
        x0 = int(np.clip((near[0] + jitter[0]) * pw - cw / 2, 0, pw - cw))
        y0 = int(np.clip((near[1] + jitter[1]) * ph - ch / 2, 0, ph - ch))
    patch = cv2.resize(image[y0:y0 + ch, x0:x0 + cw], (width, height), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    # Objects stand out a little from their surroundings, as real foreground objects do.
    contrast = rng.uniform(1.0, 1.35)
    patch = np.clip((patch - patch.mean()) * contrast + patch.mean() + rng.uniform(-20, 20), 0, 255)
    alpha = make_mask(shape, width, height, rng)
    colour = (patch * alpha[..., None]).astype(np.float32)
    return Sprite(colour=colour, alpha=alpha, source=source, shape=shape,
                  where=((x0 + cw / 2) / pw, (y0 + ch / 2) / ph))
