"""Render moving scenes frame by frame, with the exact box of every annotated object.

A scene is a background photo seen through a panning, zooming camera, plus layers drawn
back to front: objects (annotated tracks, look-alike distractors) and occluders. Each layer
is a sprite warped by its own scale, aspect stretch and in-plane rotation. Boxes are
measured on the rendered coverage (alpha >= 0.5), so they are tight by construction:
``visible`` ignores what occluders hide (VID style), ``full`` does not (OTB style).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ... import boxes
from .photos import Sprite

COVERED = 0.5   # a pixel belongs to an object when its coverage reaches this
MIN_PIXELS = 6  # fewer visible pixels than this: the object is not annotated in that frame
NOISE_MARGIN = 48


@dataclass
class Camera:
    """Background photo (float32 RGB) and the camera path over it, in photo pixels."""

    photo: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    zoom: np.ndarray          # frame pixels per photo pixel
    source: str = ""          # photo name, so objects can avoid being cut from the background


@dataclass
class Layer:
    """A sprite and its path in frame pixels; ``track_id`` None means never annotated."""

    sprite: Sprite
    cx: np.ndarray
    cy: np.ndarray
    size: np.ndarray          # geometric-mean side (sqrt(w * h)) on screen, pixels
    stretch: np.ndarray       # extra width/height factor on top of the sprite's own aspect
    angle: np.ndarray         # in-plane rotation, degrees
    track_id: int | None = None
    wnid: str = ""
    exposure: float = 0.0     # motion blur length as a fraction of the per-frame motion
    _mips: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def rgba(self, level: int) -> np.ndarray:
        """The sprite halved ``level`` times (area filter): no aliasing when shown small."""
        if level not in self._mips:
            image = self.sprite.rgba
            for _ in range(level):
                h, w = image.shape[:2]
                image = cv2.resize(image, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
            self._mips[level] = image
        return self._mips[level]


@dataclass
class Scene:
    width: int
    height: int
    frames: int
    camera: Camera
    layers: list[Layer]
    gain: np.ndarray          # (frames, 3) per-channel illumination gain
    shade: np.ndarray         # (frames,) strength of a linear light gradient across the frame
    shade_angle: float
    noise: float              # sensor noise sigma, grey levels
    exposure: float           # camera motion blur length as a fraction of the per-frame pan
    grey: bool
    noise_seed: int


@dataclass
class ObjectView:
    """One annotated layer in one frame; boxes are canonical cxcywh (see siamfc_lib.boxes)."""

    track_id: int
    wnid: str
    visible: np.ndarray | None    # tight on the pixels left visible by occluders
    full: np.ndarray | None       # tight on the whole object inside the frame
    visible_fraction: float       # visible pixels / pixels of the whole object in the frame


def _tight_box(mask: np.ndarray, x_off: int, y_off: int) -> np.ndarray | None:
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0 or np.count_nonzero(mask) < MIN_PIXELS:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    corners = [x_off + cols[0], y_off + rows[0], x_off + cols[-1], y_off + rows[-1]]
    return boxes.vid_corners_to_cxcywh(corners)


def motion_kernel(dx: float, dy: float) -> np.ndarray | None:
    """A normalised line kernel for a smear of ``(dx, dy)`` pixels; None when under 1.5 px."""
    length = float(np.hypot(dx, dy))
    if length < 1.5:
        return None
    size = int(np.ceil(length)) | 1
    canvas = np.zeros((size, size), np.uint8)
    c = (size - 1) / 2
    p0 = (int(round((c - dx / 2) * 16)), int(round((c - dy / 2) * 16)))
    p1 = (int(round((c + dx / 2) * 16)), int(round((c + dy / 2) * 16)))
    cv2.line(canvas, p0, p1, 255, 1, cv2.LINE_AA, shift=4)
    kernel = canvas.astype(np.float32)
    return kernel / kernel.sum()


def _velocity(path_x: np.ndarray, path_y: np.ndarray, t: int) -> tuple[float, float]:
    a, b = max(t - 1, 0), min(t + 1, len(path_x) - 1)
    if a == b:
        return 0.0, 0.0
    return float(path_x[b] - path_x[a]) / (b - a), float(path_y[b] - path_y[a]) / (b - a)


def _background(scene: Scene, t: int) -> np.ndarray:
    cam = scene.camera
    z = float(cam.zoom[t])
    matrix = np.array([[z, 0, scene.width / 2 - z * cam.cx[t]], [0, z, scene.height / 2 - z * cam.cy[t]]])
    return cv2.warpAffine(cam.photo, matrix, (scene.width, scene.height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT_101)


def _warp_layer(layer: Layer, t: int, width: int, height: int):
    """The layer's premultiplied RGBA in frame pixels: ``(rgba, x0, y0)`` or None off-screen."""
    sprite_h, sprite_w = layer.sprite.alpha.shape
    k = float(layer.size[t]) / np.sqrt(sprite_w * sprite_h)
    sx, sy = k * np.sqrt(layer.stretch[t]), k / np.sqrt(layer.stretch[t])
    level = int(np.clip(np.floor(np.log2(1.0 / max(sx, sy, 1e-6))), 0, 5))
    rgba = layer.rgba(level)
    h, w = rgba.shape[:2]
    sx, sy = sx * sprite_w / w, sy * sprite_h / h
    theta = np.deg2rad(float(layer.angle[t]))
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    linear = rot @ np.diag([sx, sy])
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    shift = np.array([layer.cx[t], layer.cy[t]]) - linear @ centre
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [-0.5, h - 0.5], [w - 0.5, h - 0.5]]) @ linear.T + shift
    vx, vy = _velocity(layer.cx, layer.cy, t)
    kernel = motion_kernel(vx * layer.exposure, vy * layer.exposure) if layer.exposure > 0 else None
    pad = 2 + (kernel.shape[0] // 2 if kernel is not None else 0)
    x0 = max(int(np.floor(corners[:, 0].min())) - pad, 0)
    y0 = max(int(np.floor(corners[:, 1].min())) - pad, 0)
    x1 = min(int(np.ceil(corners[:, 0].max())) + pad, width - 1)
    y1 = min(int(np.ceil(corners[:, 1].max())) + pad, height - 1)
    if x0 > x1 or y0 > y1:
        return None
    matrix = np.hstack([linear, (shift - [x0, y0])[:, None]])
    out = cv2.warpAffine(rgba, matrix, (x1 - x0 + 1, y1 - y0 + 1), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    if kernel is not None:
        out = cv2.filter2D(out, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    return out, x0, y0


def _ramp(scene: Scene) -> np.ndarray:
    ys, xs = np.mgrid[0:scene.height, 0:scene.width].astype(np.float32)
    c, s = np.cos(scene.shade_angle), np.sin(scene.shade_angle)
    return ((xs - scene.width / 2) * c + (ys - scene.height / 2) * s) / max(scene.width, scene.height)


def render(scene: Scene):
    """Yield ``(image, views)`` for every frame: uint8 RGB (or grey) and the annotated objects."""
    ramp = _ramp(scene)
    noise_rng = np.random.default_rng(scene.noise_seed)
    # Sensor noise: one field per video, shifted randomly each frame (drawing a fresh field
    # per frame was the slowest step of the whole generator).
    shape = (scene.height + NOISE_MARGIN, scene.width + NOISE_MARGIN, 3)
    noise_bank = noise_rng.standard_normal(shape, dtype=np.float32) * np.float32(scene.noise)
    for t in range(scene.frames):
        yield _render_frame(scene, t, ramp, noise_rng, noise_bank)


def _render_frame(scene: Scene, t: int, ramp: np.ndarray, noise_rng: np.random.Generator,
                  noise_bank: np.ndarray):
    W, H = scene.width, scene.height
    frame = _background(scene, t)
    # Annotated layers drawn so far: (layer, coverage still visible, full box, full pixel count).
    annotated: list[tuple[Layer, np.ndarray | None, np.ndarray | None, int]] = []
    for layer in scene.layers:
        warped = _warp_layer(layer, t, W, H)
        if warped is None:
            if layer.track_id is not None:
                annotated.append((layer, None, None, 0))
            continue
        rgba, x0, y0 = warped
        h, w = rgba.shape[:2]
        alpha = rgba[..., 3]
        roi = frame[y0:y0 + h, x0:x0 + w]
        roi *= (1.0 - alpha)[..., None]
        roi += rgba[..., :3]
        for _, visible, _, _ in annotated:
            if visible is not None:
                visible[y0:y0 + h, x0:x0 + w] *= 1.0 - alpha
        if layer.track_id is not None:
            visible = np.zeros((H, W), np.float32)
            visible[y0:y0 + h, x0:x0 + w] = alpha
            covered = alpha >= COVERED
            annotated.append((layer, visible, _tight_box(covered, x0, y0), int(np.count_nonzero(covered))))
    views = []
    for layer, visible, full, full_pixels in annotated:
        box, fraction = None, 0.0
        if visible is not None and full is not None:
            mask = visible >= COVERED
            box = _tight_box(mask, 0, 0)
            if box is not None:
                fraction = min(1.0, np.count_nonzero(mask) / max(full_pixels, 1))
        views.append(ObjectView(int(layer.track_id), layer.wnid, box, full, float(fraction)))
    return _photometric(scene, t, frame, ramp, noise_rng, noise_bank), views


def _photometric(scene: Scene, t: int, frame: np.ndarray, ramp: np.ndarray,
                 noise_rng: np.random.Generator, noise_bank: np.ndarray) -> np.ndarray:
    cam = scene.camera
    vx, vy = _velocity(cam.cx * cam.zoom, cam.cy * cam.zoom, t)
    kernel = motion_kernel(-vx * scene.exposure, -vy * scene.exposure) if scene.exposure > 0 else None
    if kernel is not None:
        frame = cv2.filter2D(frame, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    light = ramp * np.float32(scene.shade[t])
    light += np.float32(1.0)
    frame *= light[..., None]
    frame *= scene.gain[t].astype(np.float32)
    dy, dx = noise_rng.integers(0, NOISE_MARGIN, size=2)
    frame += noise_bank[dy:dy + scene.height, dx:dx + scene.width]
    frame += np.float32(0.5)          # then truncation below rounds to nearest
    np.clip(frame, 0, 255, out=frame)
    image = frame.astype(np.uint8)
    if scene.grey:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image
