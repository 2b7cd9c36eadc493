"""One single-target clip for the benchmark look-alikes (GOT-10k, LaSOT, UAV123, NfS, TC128, DTB70).

Each benchmark writes its own files, but the videos are alike: a target wandering over a
panning photo, with what makes those benchmarks' labels interesting on demand, a stretch where
the target leaves the view (UAV123's NaN rows, LaSOT's out_of_view, GOT-10k's absence) and one
where an occluder hides it completely (LaSOT's full_occlusion, GOT-10k's cover 0). The truth of
every frame comes from the renderer: the whole target's box where any of it is in view, and the
fraction of it left visible by occluders.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from ... import boxes
from ...config.data import SyntheticConfig
from ...seeding import rng as derived_rng
from .motion import pulse, sweep
from .recipes import assemble, make_camera, moving_layer, push_out, sprite_for, zoom_ratio
from .scenes import Layer, render


@dataclass(frozen=True)
class ClipSpec:
    name: str
    frames: int
    leave: tuple[float, float] | None = None     # the target slides out of view in this window (fractions)
    hide: tuple[float, float] | None = None      # an occluder covers it completely in this window
    edge: bool = False                           # the target rides the left border, partly cut off
    grey: bool = False
    wnid: str = ""


@dataclass(frozen=True)
class FrameTruth:
    full: np.ndarray | None       # canonical cxcywh of the whole target inside the frame; None: out of view
    visible: float                # fraction of the target left visible by occluders (0 when out of view)
    size: tuple[int, int]         # frame width, height


SPAWN_WORTH_PIXELS = 2e7     # below this many pixels to render, a spawned worker's start-up (~1 s) is not worth it


def workers_for(cfg: SyntheticConfig, clips: int) -> int | None:
    """Worker processes for ``clips`` clips: one (in this process) for small trees, else every core."""
    width, height = cfg.otb_frame_size
    return 1 if clips * cfg.otb_frames * width * height < SPAWN_WORTH_PIXELS else None


def clip_frames(cfg: SyntheticConfig, kind: str, name: str, jitter: float = 0.25) -> int:
    """A clip's length around ``cfg.otb_frames``, fixed by the benchmark kind and the clip's name."""
    rng = derived_rng(cfg.seed, kind, name, "length")
    return max(6, int(round(cfg.otb_frames * rng.uniform(1 - jitter, 1 + jitter))))


def _cover(rng: np.random.Generator, target: Layer, frames: int, window: tuple[float, float]) -> Layer:
    """An occluder three times the target's size crossing it slowly: the target is fully hidden in the
    middle two thirds of the window (the occluder's centre is within one target size of the target's)."""
    size = float(np.max(target.size)) * 3.0
    sprite = sprite_for(rng, np.full(frames, size), 1.0, shape="rounded")
    s = np.clip(sweep(frames, *window), -6, 6) * size / 2
    return Layer(sprite=sprite, cx=target.cx + s, cy=target.cy.copy(), size=np.full(frames, size),
                 stretch=np.ones(frames), angle=np.zeros(frames))


def build_clip(cfg: SyntheticConfig, kind: str, spec: ClipSpec):
    rng = derived_rng(cfg.seed, kind, spec.name)
    width, height = cfg.otb_frame_size
    camera = make_camera(rng, width, height, spec.frames, pan=rng.uniform(0.3, 0.8))
    ratio = zoom_ratio(camera)
    size0 = min(width, height) * rng.uniform(0.16, 0.28)
    aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    sprite = sprite_for(rng, np.array([size0 * np.exp(0.3) * ratio.max()]), aspect, avoid=camera.source)
    at = (0.0, rng.uniform(0.4, 0.6)) if spec.edge else None
    target = moving_layer(rng, sprite, spec.frames, width, height, size0, ratio, at=at, roam=0.05 if spec.edge else 0.15,
                          size_swing=0.25, spin=8.0, track_id=1, wnid=spec.wnid)
    reach = np.minimum(target.size, 0.4 * min(width, height)) * 0.6
    if not spec.edge:
        target.cx = np.clip(target.cx, reach, width - reach)
    target.cy = np.clip(target.cy, reach, height - reach)
    layers = [target]
    if spec.hide is not None:
        layers.append(_cover(rng, target, spec.frames, spec.hide))
    if spec.leave is not None:
        push_out(target, width, pulse(spec.frames, *spec.leave, hold=0.5))
    return assemble(rng, width, height, spec.frames, camera, layers, grey=spec.grey, blur=0.2)


def save_jpeg(path, image: np.ndarray, quality: int) -> int:
    """Write ``image`` (RGB or grey) as a JPEG; returns its size in bytes."""
    ok, jpeg = cv2.imencode(".jpg", image[..., ::-1] if image.ndim == 3 else image,
                            [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path}")
    data = jpeg.tobytes()
    path.write_bytes(data)
    return len(data)


def touches_border(full: np.ndarray, size: tuple[int, int]) -> bool:
    """The whole-target box reaches the image border: the border cuts the target."""
    x1, y1, x2, y2 = boxes.cxcywh_to_edges(full)
    return bool(x1 <= 0.5 or y1 <= 0.5 or x2 >= size[0] - 0.5 or y2 >= size[1] - 0.5)


def render_clip(cfg: SyntheticConfig, kind: str, spec: ClipSpec) -> Iterator[tuple[np.ndarray, FrameTruth]]:
    """``(image, truth)`` per frame: uint8 RGB (grey when asked) and the target's truth."""
    scene = build_clip(cfg, kind, spec)
    for image, views in render(scene):
        view = views[0]
        yield image, FrameTruth(view.full, view.visible_fraction if view.full is not None else 0.0,
                                (scene.width, scene.height))
