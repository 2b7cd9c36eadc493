"""Write an OTB2015-format tree: ``<Seq>/img/%04d.jpg`` and ``groundtruth_rect*.txt``.

Why these names: real OTB quirks are tied to real folder names (loaders keep tables keyed by
them), so the quirky synthetic sequences borrow those names:
Jogging (two targets), Human4 (empty first target), Board (five-digit names), BlurCar3
(names start at 0003), Football1 (trailing unannotated images), David (annotation starts at
image 300), Tiger1 (loaders may apply initOmit). Ordinary ones are called Synth01...
OTB ground truth covers the whole target even where an occluder hides part of it.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from ... import boxes
from ...config.data import SyntheticConfig
from ...seeding import rng as derived_rng
from .recipes import assemble, make_camera, moving_layer, occluder_over, sprite_for, zoom_ratio
from .scenes import Layer, render
from .workers import map_in_order


@dataclass(frozen=True)
class OtbSequence:
    name: str
    targets: int = 1            # two: groundtruth_rect.1.txt and .2.txt, no plain file
    empty_first: bool = False   # Human4: an empty groundtruth_rect.1.txt, the target in .2
    digits: int = 4             # image name width (Board: 5)
    first_image: int = 1        # number in the first image name (BlurCar3: 3)
    gt_start: int = 1           # image number the first ground-truth line belongs to (David: 300)
    trailing: int = 0           # unannotated images after the last annotated one (Football1)
    grey: bool = False          # single-channel JPEGs
    delimiter: str = ","
    final_newline: bool = True
    blur: float | None = None   # camera motion blur (None: random)
    shake: float = 0.0          # camera jitter, frame pixels


QUIRKS: dict[str, OtbSequence] = {s.name: s for s in (
    OtbSequence("Jogging", targets=2, delimiter="\t"),
    OtbSequence("Human4", empty_first=True),
    OtbSequence("Board", digits=5),
    OtbSequence("BlurCar3", first_image=3, gt_start=3, blur=1.0, shake=3.0, final_newline=False),
    OtbSequence("Football1", trailing=7, delimiter=" "),
    OtbSequence("David", gt_start=300, grey=True),
    OtbSequence("Tiger1", delimiter="\t"),
)}
_ORDINARY_DELIMITERS = (" ", "\t", ",")


def sequence_spec(name: str) -> OtbSequence:
    """The quirk spec for a real OTB name; else an ordinary one, its look fixed by its name
    (the number it ends with picks the delimiter; Synth02, Synth06... are grey)."""
    if name in QUIRKS:
        return QUIRKS[name]
    digits = re.search(r"(\d+)$", name)
    number = int(digits.group(1)) if digits else zlib.crc32(name.encode("utf-8"))
    return OtbSequence(name, delimiter=_ORDINARY_DELIMITERS[number % 3], grey=number % 4 == 2)


def build_scene(cfg: SyntheticConfig, spec: OtbSequence):
    rng = derived_rng(cfg.seed, "otb", spec.name)
    width, height = cfg.otb_frame_size
    annotated = max(4, int(round(cfg.otb_frames * rng.uniform(0.7, 1.3))))
    lead = spec.gt_start - spec.first_image
    frames = lead + annotated + spec.trailing
    camera = make_camera(rng, width, height, frames, pan=rng.uniform(0.4, 1.0), shake=spec.shake)
    ratio = zoom_ratio(camera)
    exposure = float(rng.uniform(0.0, 0.6) if spec.blur is None else spec.blur)
    short = min(width, height)
    layers: list[Layer] = []
    n_targets = spec.targets
    target_source = None
    for k in range(n_targets):
        size0 = short * rng.uniform(0.13, 0.3)
        aspect = float(np.exp(rng.uniform(np.log(0.45), np.log(2.0))))
        probe = np.array([size0 * np.exp(0.35) * ratio.max()])
        sprite = sprite_for(rng, probe, aspect, avoid=camera.source, source=target_source)
        target_source = sprite.source
        at = (0.3 + 0.4 * k if n_targets > 1 else rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65))
        layers.append(moving_layer(rng, sprite, frames, width, height, size0, ratio, at=at, roam=0.2,
                                   size_swing=0.35, spin=10.0, track_id=k + 1, exposure=exposure))
    targets = list(layers)
    for _ in range(int(rng.integers(0, 3))):   # look-alikes: same part of the same photo
        like = targets[0]
        size = like.size * rng.uniform(0.8, 1.2)
        h, w = like.sprite.alpha.shape
        sprite = sprite_for(rng, size, w / h, like=like.sprite)
        layers.append(moving_layer(rng, sprite, frames, width, height, float(np.median(size)), ratio,
                                   roam=0.3, exposure=exposure))
    lookalikes = len(layers) - len(targets)
    occluded = False
    rng.shuffle(layers)
    if rng.random() < 0.7:
        occluded = True
        start = rng.uniform(0.1, 0.6)
        layers.append(occluder_over(rng, targets[0], frames, start, start + rng.uniform(0.15, 0.35),
                                    camera.source, exposure))
    for layer in targets:   # the whole target stays on screen: OTB boxes are never empty
        reach = np.minimum(layer.size, 0.4 * short) * 0.6
        layer.cx = np.clip(layer.cx, reach, width - reach)
        layer.cy = np.clip(layer.cy, reach, height - reach)
    scene = assemble(rng, width, height, frames, camera, layers, grey=spec.grey, blur=exposure)
    facts = {"occlusion": occluded, "lookalikes": lookalikes, "motion_blur": exposure >= 0.3}
    return scene, lead, annotated, facts


def attributes(gt_boxes: np.ndarray, facts: dict) -> list[str]:
    """The OTB attributes this sequence really has (OTB2015 attr_desc.txt definitions).

    SV, FM and LR are measured on the ground truth with OTB's thresholds (scale ratio 2,
    20 px centre motion, 400 px area); OCC, BC and MB follow from what the scene rendered.
    The OTB2015 table of the real sequence of the same name does not apply to these.
    """
    b = np.asarray(gt_boxes, dtype=np.float64)
    side = np.sqrt(b[:, 2] * b[:, 3])
    centre = b[:, :2] + (b[:, 2:] - 1) / 2
    found = []
    if np.any((side / side[0] > 2) | (side / side[0] < 0.5)):
        found.append("SV")
    if facts["occlusion"]:
        found.append("OCC")
    if facts["motion_blur"]:
        found.append("MB")
    if len(b) > 1 and np.any(np.linalg.norm(np.diff(centre, axis=0), axis=1) > 20):
        found.append("FM")
    if facts["lookalikes"]:
        found.append("BC")
    if np.any(b[:, 2] * b[:, 3] < 400):
        found.append("LR")
    return found


def _gt_line(box: np.ndarray, delimiter: str) -> str:
    x, y, w, h = (int(v) for v in np.rint(boxes.cxcywh_to_otb(box)))
    return delimiter.join(str(v) for v in (x, y, w, h))


def write_sequence(root: Path, cfg: SyntheticConfig, spec: OtbSequence) -> dict:
    scene, lead, annotated, facts = build_scene(cfg, spec)
    img_dir = root / spec.name / "img"
    img_dir.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(cfg.jpeg_quality)]
    lines: dict[int, list[str]] = {}
    last: dict[int, np.ndarray] = {}
    n_bytes = 0
    for t, (image, views) in enumerate(render(scene)):
        ok, jpeg = cv2.imencode(".jpg", image[..., ::-1] if image.ndim == 3 else image, params)
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {spec.name} frame {t}")
        (img_dir / f"{spec.first_image + t:0{spec.digits}d}.jpg").write_bytes(jpeg.tobytes())
        n_bytes += len(jpeg)
        if not lead <= t < lead + annotated:
            continue
        for view in views:
            box = view.full if view.full is not None else last.get(view.track_id)
            if box is None:
                raise RuntimeError(f"{spec.name}: target {view.track_id} off screen in frame {t}")
            last[view.track_id] = box
            lines.setdefault(view.track_id, []).append(_gt_line(box, spec.delimiter))
    files: dict[str, str] = {}
    for track_id, track_lines in sorted(lines.items()):
        text = "\n".join(track_lines) + ("\n" if spec.final_newline else "")
        if spec.targets > 1:
            files[f"groundtruth_rect.{track_id}.txt"] = text
        elif spec.empty_first:
            files["groundtruth_rect.1.txt"] = ""
            files["groundtruth_rect.2.txt"] = text
        else:
            files["groundtruth_rect.txt"] = text
    first_target = min(lines)
    gt = np.array([[float(v) for v in re.split(r"[,\t ]", line)] for line in lines[first_target]])
    files["attrs.txt"] = ", ".join(attributes(gt, facts)) + "\n"
    for name, text in files.items():
        (root / spec.name / name).write_text(text, encoding="utf-8")
        n_bytes += len(text)
    return {"name": spec.name, "targets": len(lines), "images": scene.frames, "annotated": annotated,
            "first_image": spec.first_image, "gt_start": spec.gt_start, "grey": spec.grey, "bytes": n_bytes}


def write_otb_tree(root: Path, cfg: SyntheticConfig, log=print) -> dict:
    done = []
    if len(set(cfg.otb_sequences)) != len(cfg.otb_sequences):
        raise ValueError(f"otb_sequences has duplicates: {cfg.otb_sequences}")
    specs = [sequence_spec(name) for name in cfg.otb_sequences]
    for written in map_in_order(partial(write_sequence, root, cfg), specs):
        done.append(written)
        log(f"[synthetic OTB] {written['name']}: {written['annotated']} annotated of {written['images']} images")
    return {
        "sequences": len(done),
        "targets": sum(d["targets"] for d in done),
        "images": sum(d["images"] for d in done),
        "annotated_frames": sum(d["annotated"] * d["targets"] for d in done),
        "bytes": sum(d["bytes"] for d in done),
        "per_sequence": {d["name"]: {k: v for k, v in d.items() if k != "name"} for d in done},
    }
