"""Random but controlled scene recipes: camera, targets, look-alikes, occluders, light.

Why a separate file: ``scenes`` only knows how to draw; this file decides what a "hard but
learnable" video looks like (how fast things move, how often an occluder crosses, how much
blur), so tuning difficulty never touches the renderer.
"""
from __future__ import annotations

import numpy as np

from .motion import sweep, wander
from .photos import BACKGROUNDS, COLOUR_PHOTOS, MASK_SHAPES, Sprite, cut_sprite, tinted_rgb
from .scenes import Camera, Layer, Scene

OBJECT_PHOTOS: tuple[str, ...] = COLOUR_PHOTOS + ("camera", "coins", "clock", "brick", "page")
MAX_SPRITE_SIDE = 200


def make_camera(rng: np.random.Generator, width: int, height: int, frames: int,
                pan: float = 1.0, shake: float = 0.0) -> Camera:
    """A background photo and a smooth pan/zoom path over it (``shake``: jitter, frame px)."""
    name = str(rng.choice(BACKGROUNDS))
    image = tinted_rgb(name, rng)
    if rng.random() < 0.5:
        image = np.ascontiguousarray(image[:, ::-1])
    ph, pw = image.shape[:2]
    z0 = max(width / pw, height / ph) * rng.uniform(1.25, 2.2)
    zoom = z0 * np.exp(wander(rng, frames, rng.uniform(0.03, 0.25)))
    half_w, half_h = width / (2 * z0), height / (2 * z0)
    room_x, room_y = max(pw / 2 - half_w, 1.0), max(ph / 2 - half_h, 1.0)
    cx = pw / 2 + rng.uniform(-0.5, 0.5) * room_x + wander(rng, frames, room_x * 0.5 * pan)
    cy = ph / 2 + rng.uniform(-0.5, 0.5) * room_y + wander(rng, frames, room_y * 0.5 * pan)
    if shake > 0:
        cx = cx + rng.normal(0, shake, frames) / zoom
        cy = cy + rng.normal(0, shake, frames) / zoom
    return Camera(photo=np.ascontiguousarray(image), cx=cx, cy=cy, zoom=zoom, source=name)


def sprite_for(rng: np.random.Generator, size: np.ndarray, aspect: float, *, source: str | None = None,
               shape: str | None = None, like: Sprite | None = None, avoid: str = "") -> Sprite:
    """A sprite big enough for the largest size it will be shown at (no upsampling blur)."""
    side = float(np.clip(size.max() * 1.15, 16, MAX_SPRITE_SIDE))
    width = max(4, int(round(side * np.sqrt(aspect))))
    height = max(4, int(round(side / np.sqrt(aspect))))
    if like is not None:
        return cut_sprite(rng, like.source, width, height, like.shape, near=like.where)
    if source is None:
        choices = [p for p in OBJECT_PHOTOS if p != avoid]
        source = str(rng.choice(choices))
    if shape is None:
        shape = str(rng.choice(MASK_SHAPES, p=[0.3, 0.25, 0.3, 0.15]))
    return cut_sprite(rng, source, width, height, shape)


def moving_layer(rng: np.random.Generator, sprite: Sprite, frames: int, width: int, height: int,
                 size0: float, zoom_ratio: np.ndarray, *, at: tuple[float, float] | None = None,
                 roam: float = 0.25, size_swing: float = 0.3, stretch_swing: float = 0.12,
                 spin: float = 12.0, track_id: int | None = None, wnid: str = "",
                 exposure: float = 0.0) -> Layer:
    """A layer wandering around ``at`` (fractions of the frame), following the camera zoom."""
    u0, v0 = at if at is not None else (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
    cx = width * (u0 + wander(rng, frames, roam))
    cy = height * (v0 + wander(rng, frames, roam * 0.8))
    size = size0 * np.exp(wander(rng, frames, size_swing)) * zoom_ratio
    stretch = np.exp(wander(rng, frames, stretch_swing))
    angle = wander(rng, frames, spin)
    return Layer(sprite=sprite, cx=cx, cy=cy, size=size, stretch=stretch, angle=angle,
                 track_id=track_id, wnid=wnid, exposure=exposure)


def extent(layer: Layer) -> float:
    """Half the largest on-screen extent the layer ever reaches (any rotation)."""
    h, w = layer.sprite.alpha.shape
    aspect = w / h
    stretch = layer.stretch * aspect
    return float(np.max(layer.size * np.sqrt(np.maximum(stretch, 1 / stretch)))) / 2 * 1.45


def push_out(layer: Layer, width: int, profile: np.ndarray) -> None:
    """Slide the layer out of the frame sideways while ``profile`` is 1 (leave, re-enter)."""
    active = profile > 0.999
    if not active.any():
        active = profile >= profile.max()
    mid = float(np.mean(layer.cx[active]))
    reach = extent(layer) + 2
    if mid < width / 2:
        needed = np.max(layer.cx[active]) + reach
        layer.cx = layer.cx - profile * needed
    else:
        needed = width - np.min(layer.cx[active]) + reach
        layer.cx = layer.cx + profile * needed


def occluder_over(rng: np.random.Generator, target: Layer, frames: int, start: float, stop: float,
                  avoid: str, exposure: float = 0.0) -> Layer:
    """An unannotated object that crosses in front of ``target`` during ``[start, stop]``."""
    size0 = float(np.median(target.size)) * rng.uniform(0.6, 1.1)
    aspect = float(np.exp(rng.uniform(np.log(0.25), np.log(4.0))))
    size = np.full(frames, size0)
    sprite = sprite_for(rng, size, aspect, avoid=avoid, shape=str(rng.choice(["ellipse", "rounded", "blob"])))
    direction = rng.uniform(0, 2 * np.pi)
    reach = (extent(target) + size0) * 1.1
    s = sweep(frames, start, stop) * reach
    cx = target.cx + np.cos(direction) * s
    cy = target.cy + np.sin(direction) * s
    return Layer(sprite=sprite, cx=cx, cy=cy, size=size, stretch=np.ones(frames),
                 angle=np.full(frames, rng.uniform(-30, 30)), exposure=exposure)


def light(rng: np.random.Generator, frames: int, strength: float = 1.0) -> tuple[np.ndarray, np.ndarray, float]:
    """Illumination drift: per-channel gains, a moving light gradient and its direction."""
    overall = np.exp(wander(rng, frames, 0.22 * strength))
    tint = np.exp(np.stack([wander(rng, frames, 0.05 * strength) for _ in range(3)], axis=1))
    gain = overall[:, None] * tint
    shade = wander(rng, frames, 0.5 * strength)
    return gain, shade, float(rng.uniform(0, 2 * np.pi))


def assemble(rng: np.random.Generator, width: int, height: int, frames: int, camera: Camera,
             layers: list[Layer], *, grey: bool = False, blur: float | None = None,
             noise: float | None = None) -> Scene:
    gain, shade, angle = light(rng, frames)
    return Scene(width=width, height=height, frames=frames, camera=camera, layers=layers, gain=gain,
                 shade=shade, shade_angle=angle,
                 noise=float(rng.uniform(0.5, 3.5) if noise is None else noise),
                 exposure=float(rng.uniform(0.0, 0.8) if blur is None else blur), grey=grey,
                 noise_seed=int(rng.integers(0, 2**63 - 1)))


def zoom_ratio(camera: Camera) -> np.ndarray:
    return camera.zoom / camera.zoom[0]
