"""Contact sheets of dataset frames with their ground-truth boxes drawn on.

Why: the quickest check that boxes are tight and scenes look natural is to look. Works on
the embedded trees and on the real datasets alike (it only reads the on-disk formats).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from .. import boxes

# Real OTB2015 sequences whose ground truth starts at another image than the first file.
_OTB_START = {"David": 300, "BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18}
_COLOURS = ("#ff3030", "#30ff30", "#30a0ff", "#ffd000", "#ff40ff", "#00ffff")


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _grid(n: int):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cols = min(4, max(1, n))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    return plt, fig, axes.ravel()


def _draw_box(ax, box_cxcywh: np.ndarray, colour: str, label: str) -> None:
    from matplotlib.patches import Rectangle

    x, y, w, h = boxes.edges_xywh(box_cxcywh)
    ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=colour, linewidth=1.2))
    ax.text(x, y - 2, label, color=colour, fontsize=7, va="bottom")


def _vid_frames(vid_root: Path) -> list[Path]:
    return sorted((vid_root / "Annotations" / "VID").glob("*/**/*.xml"))


def render_vid_preview(vid_root: str | Path, out_png: str | Path, n: int = 12) -> Path:
    """``n`` frames spread over the VID tree's snippets, boxes labelled trackid[/occ][/gen]."""
    vid_root, out_png = Path(vid_root), Path(out_png)
    xmls = _vid_frames(vid_root)
    if not xmls:
        raise FileNotFoundError(f"no annotations under {vid_root / 'Annotations' / 'VID'}")
    chosen = [xmls[int(i)] for i in np.linspace(0, len(xmls) - 1, min(n, len(xmls)))]
    plt, fig, axes = _grid(len(chosen))
    for ax, xml in zip(axes, chosen):
        rel = xml.relative_to(vid_root / "Annotations")
        image = _read_rgb((vid_root / "Data" / rel).with_suffix(".JPEG"))
        ax.imshow(image)
        ax.set_title(f"{rel.parent.name[-8:]}/{rel.stem}", fontsize=8)
        for obj in ET.parse(xml).getroot().findall("object"):
            bb = obj.find("bndbox")
            corners = [int(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
            track = int(obj.findtext("trackid"))
            flags = ("/occ" if obj.findtext("occluded") == "1" else "") + ("/gen" if obj.findtext("generated") == "1" else "")
            _draw_box(ax, boxes.vid_corners_to_cxcywh(corners), _COLOURS[track % len(_COLOURS)], f"{track}{flags}")
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return out_png


def _otb_targets(otb_root: Path):
    """(name, image files, boxes) per target, aligned as OTB loaders align them."""
    for seq in sorted(p for p in otb_root.iterdir() if (p / "img").is_dir()):
        images = sorted((seq / "img").glob("*.jpg"))
        numbers = [int(p.stem) for p in images]
        start = _OTB_START.get(seq.name, numbers[0])
        gt_files = [f for f in sorted(seq.glob("groundtruth_rect*.txt")) if f.read_text().strip()]
        for gt_file in gt_files:
            text = re.sub(r"[,\t ]+", " ", gt_file.read_text())
            gt = np.loadtxt(text.splitlines(), ndmin=2)
            first = numbers.index(start)
            suffix = gt_file.name[len("groundtruth_rect"):-len(".txt")]
            yield seq.name + suffix, images[first:first + len(gt)], gt


def render_otb_preview(otb_root: str | Path, out_png: str | Path, per_target: int = 2) -> Path:
    """The first and middle annotated frames (``per_target``) of every target with its box."""
    otb_root, out_png = Path(otb_root), Path(out_png)
    tiles = []
    for name, images, gt in _otb_targets(otb_root):
        for i in np.linspace(0, len(gt) - 1, per_target).astype(int):
            tiles.append((f"{name} {images[i].name}", images[i], gt[i]))
    plt, fig, axes = _grid(len(tiles))
    for ax, (title, image_path, box) in zip(axes, tiles):
        ax.imshow(_read_rgb(image_path))
        ax.set_title(title, fontsize=8)
        _draw_box(ax, boxes.otb_to_cxcywh(box), _COLOURS[0], "")
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return out_png
