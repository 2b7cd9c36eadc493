"""Write an ILSVRC2015-VID tree (Data/, Annotations/, ImageSets/) of synthetic snippets.

Layout, names, XML element order and ImageSets formats follow the ILSVRC2015 devkit readme
exactly. Every snippet is rendered from its own seeded stream, so a
snippet's files depend only on the seed, the config and the snippet's index.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from ... import boxes
from ...config.data import SyntheticConfig
from ...seeding import rng as derived_rng
from .motion import pulse
from .recipes import assemble, make_camera, moving_layer, occluder_over, push_out, sprite_for, zoom_ratio
from .scenes import Layer, ObjectView, render
from .workers import map_in_order
from ..vid_xml import VidObject, frame_xml

# The 30 VID classes in the order of ILSVRC2015_VID_ID (train_<k>.txt uses k = index + 1).
VID_WNIDS: tuple[str, ...] = (
    "n02691156", "n02419796", "n02131653", "n02834778", "n01503061", "n02924116", "n02958343",
    "n02402425", "n02084071", "n02121808", "n02503517", "n02118333", "n02510455", "n02342885",
    "n02374451", "n02129165", "n01674464", "n02484322", "n03790512", "n02324045", "n02509815",
    "n02411705", "n01726692", "n02355227", "n02129604", "n04468005", "n01662784", "n04530566",
    "n02062744", "n02391049",
)
# Each snippet gets one guaranteed oddity (cycling), so even a 4-snippet tree has them all.
SCENARIOS: tuple[str, ...] = ("reenter", "tiny", "odd_aspect", "border", "lookalikes", "late_entry")
OCCLUDED_BELOW = 0.75   # visible fraction under which a box is flagged occluded=1


@dataclass
class Snippet:
    subset: str            # "train" or "val"
    index: int             # position within the subset
    folder: str            # e.g. "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000"
    scenario: str


def snippet_folders(train: int, val: int) -> list[Snippet]:
    """Names as the devkit defines them; some videos contribute two snippets (``...000, ...001``)."""
    out: list[Snippet] = []
    batches = min(4, max(train, 1))
    video, clip = 0, 0
    for i in range(train):
        batch = i * batches // max(train, 1)
        name = f"ILSVRC2015_VID_train_{batch:04d}/ILSVRC2015_train_{video:05d}{clip:03d}"
        out.append(Snippet("train", i, name, SCENARIOS[i % len(SCENARIOS)]))
        if clip == 0 and i % 3 == 1:
            clip = 1
        else:
            video, clip = video + 1 + i % 4, 0
    for i in range(val):
        number = (i // 2) * 1000 + i % 2
        out.append(Snippet("val", i, f"ILSVRC2015_val_{number:08d}",
                           SCENARIOS[(train + i) % len(SCENARIOS)]))
    return out


def build_scene(cfg: SyntheticConfig, snip: Snippet):
    """The scene of one snippet and, per track, the frames whose boxes are flagged generated."""
    rng = derived_rng(cfg.seed, "vid", snip.subset, snip.index)
    width, base_h = cfg.vid_frame_size
    height = base_h if rng.random() < 0.6 else int(round(width * 9 / 16 / 2) * 2)  # 4:3 and 16:9 clips
    frames = max(6, int(round(cfg.vid_frames * rng.uniform(0.75, 1.25))))
    camera = make_camera(rng, width, height, frames)
    ratio = zoom_ratio(camera)
    background = camera.source
    short = min(width, height)
    count = 1 if snip.scenario == "reenter" else int(rng.integers(1, cfg.vid_max_objects + 1))
    if snip.scenario in ("tiny", "lookalikes"):
        count = max(count, 2)
    exposure = float(rng.uniform(0.0, 0.8))
    layers: list[Layer] = []
    for track in range(count):
        wnid = str(rng.choice(VID_WNIDS))
        aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1.7))))
        size0 = short * rng.uniform(0.14, 0.42)
        kwargs: dict = {}
        if track == 0 and snip.scenario == "tiny":
            size0, kwargs = rng.uniform(9, 14), {"size_swing": 0.1, "roam": 0.18}
        if track == 0 and snip.scenario == "odd_aspect":
            aspect, kwargs = float(rng.choice([0.22, 4.5])), {"spin": 2.0, "stretch_swing": 0.05}
            wnid = "n01726692" if aspect > 1 else "n02062744"
        if track == 0 and snip.scenario == "border":
            kwargs = {"at": (float(rng.choice([0.04, 0.96])), rng.uniform(0.3, 0.7)), "roam": 0.06}
        if snip.scenario == "lookalikes" and track > 0:
            like = layers[0]
            size = like.size * rng.uniform(0.8, 1.2)
            sprite = sprite_for(rng, size, like.sprite.alpha.shape[1] / like.sprite.alpha.shape[0], like=like.sprite)
            layers.append(moving_layer(rng, sprite, frames, width, height, float(np.median(like.size)) / ratio[0],
                                       ratio, track_id=track, wnid=like.wnid, exposure=exposure))
            continue
        probe = size0 * np.exp(0.3) * ratio.max() * np.ones(1)
        sprite = sprite_for(rng, probe, aspect, avoid=background)
        layers.append(moving_layer(rng, sprite, frames, width, height, size0, ratio, track_id=track,
                                   wnid=wnid, exposure=exposure, **kwargs))
    if snip.scenario == "reenter":
        push_out(layers[0], width, pulse(frames, 0.3, 0.75, hold=0.4))
    if snip.scenario == "late_entry":
        for layer in layers:
            push_out(layer, width, pulse(frames, -0.3, 0.3, hold=0.5))
    rng.shuffle(layers)  # depth order: any track may pass in front of another
    if cfg.vid_lookalike_prob > 0 and snip.scenario != "lookalikes" and rng.random() < cfg.vid_lookalike_prob:
        add_lookalikes(rng, layers, frames, width, height, ratio, exposure)
    if snip.index % 2 == 1 or rng.random() < 0.4:
        target = next(layer for layer in layers if layer.track_id == 0)
        start = rng.uniform(0.1, 0.5)
        layers.append(occluder_over(rng, target, frames, start, start + rng.uniform(0.3, 0.5), background, exposure))
    scene = assemble(rng, width, height, frames, camera, layers, blur=exposure)
    generated: dict[int, tuple[int, int]] = {}
    if frames >= 8 and (snip.index < 2 or rng.random() < 0.5):
        a = int(rng.integers(1, frames // 2))
        generated[0] = (a, min(frames - 2, a + int(rng.integers(3, max(4, frames // 3)))))
    return scene, generated


def add_lookalikes(rng: np.random.Generator, layers: list[Layer], frames: int, width: int, height: int,
                   ratio: np.ndarray, exposure: float) -> None:
    """1-2 unannotated copies of one track's look (same part of the same photo) at random depths.

    Why: clutter of the target's own kind is what a Siamese tracker confuses most; unannotated,
    such copies only ever appear as negatives around the target in a training pair.
    """
    like = layers[int(rng.integers(len(layers)))]
    h, w = like.sprite.alpha.shape
    for _ in range(int(rng.integers(1, 3))):
        size0 = float(np.median(like.size / ratio)) * rng.uniform(0.8, 1.2)
        sprite = sprite_for(rng, size0 * ratio, w / h, like=like.sprite)
        copy = moving_layer(rng, sprite, frames, width, height, size0, ratio, roam=0.3, exposure=exposure)
        layers.insert(int(rng.integers(len(layers) + 1)), copy)


def view_object(view: ObjectView, occluded: bool, generated: bool) -> VidObject:
    """A rendered object's visible part as a VID annotation (corners rounded to pixels)."""
    corners = tuple(int(v) for v in np.rint(boxes.cxcywh_to_vid_corners(view.visible)))
    return VidObject(view.track_id, view.wnid, corners, occluded, generated)


def write_snippet(root: Path, cfg: SyntheticConfig, snip: Snippet) -> dict:
    """Render and write one snippet's JPEGs and XMLs; return its counts and classes."""
    scene, generated = build_scene(cfg, snip)
    data_dir = root / "Data" / "VID" / snip.subset / snip.folder
    ann_dir = root / "Annotations" / "VID" / snip.subset / snip.folder
    data_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    n_boxes, n_bytes, wnids = 0, 0, set()
    params = [cv2.IMWRITE_JPEG_QUALITY, int(cfg.jpeg_quality)]
    for t, (image, views) in enumerate(render(scene)):
        stem = f"{t:06d}"
        ok, jpeg = cv2.imencode(".JPEG", image[..., ::-1] if image.ndim == 3 else image, params)
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {data_dir / stem}")
        (data_dir / f"{stem}.JPEG").write_bytes(jpeg.tobytes())
        objects = []
        for view in sorted(views, key=lambda v: v.track_id):
            if view.visible is None:
                continue
            span = generated.get(view.track_id)
            is_generated = span is not None and span[0] <= t <= span[1]
            objects.append(view_object(view, view.visible_fraction < OCCLUDED_BELOW, is_generated))
            wnids.add(view.wnid)
        xml = frame_xml(snip.folder, stem, scene.width, scene.height, objects)
        (ann_dir / f"{stem}.xml").write_text(xml, encoding="utf-8")
        n_boxes += len(objects)
        n_bytes += len(jpeg) + len(xml)
    return {"folder": snip.folder, "subset": snip.subset, "frames": scene.frames, "boxes": n_boxes,
            "bytes": n_bytes, "wnids": sorted(wnids), "scenario": snip.scenario}


def write_image_sets(root: Path, done: list[dict]) -> None:
    """``train_<k>.txt``: positive training snippets of class k, label 1; ``val.txt``: frames."""
    sets = root / "ImageSets" / "VID"
    sets.mkdir(parents=True, exist_ok=True)
    train = [d for d in done if d["subset"] == "train"]
    for k, wnid in enumerate(VID_WNIDS, start=1):
        lines = [f"{d['folder']} 1\n" for d in train if wnid in d["wnids"]]
        (sets / f"train_{k}.txt").write_text("".join(lines), encoding="utf-8")
    lines, index = [], 1
    for d in (d for d in done if d["subset"] == "val"):
        for t in range(d["frames"]):
            lines.append(f"{d['folder']}/{t:06d} {index}\n")
            index += 1
    (sets / "val.txt").write_text("".join(lines), encoding="utf-8")


def write_vid_tree(root: Path, cfg: SyntheticConfig, log=print) -> dict:
    """Write the whole VID tree under ``root`` (which must be fresh); return a summary."""
    snippets = snippet_folders(cfg.vid_train_videos, cfg.vid_val_videos)
    done = []
    for i, written in enumerate(map_in_order(partial(write_snippet, root, cfg), snippets), start=1):
        done.append(written)
        if i % 8 == 0 or i == len(snippets):
            log(f"[synthetic VID] {i}/{len(snippets)} snippets")
    write_image_sets(root, done)
    return {
        "snippets": {"train": cfg.vid_train_videos, "val": cfg.vid_val_videos},
        "frames": sum(d["frames"] for d in done),
        "boxes": sum(d["boxes"] for d in done),
        "bytes": sum(d["bytes"] for d in done),
        "classes": len({w for d in done for w in d["wnids"]}),
    }
