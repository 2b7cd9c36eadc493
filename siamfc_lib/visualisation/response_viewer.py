"""Scrub through a tracked sequence: search region with boxes beside the windowed response.

* :func:`record_sequence` tracks with ``record=True`` and keeps, per frame, what the tracker
  saw (search crop of the chosen scale, 272x272 response after the window, chosen scale);
* :func:`render_frame` is pure (data, index -> RGB array); it draws on its own Agg canvas, so
  it neither needs nor changes the pyplot backend;
* :func:`make_viewer` wraps it in an ipywidgets slider updating a ``widgets.Image`` of PNG
  bytes (the callback captures its state, so it needs no notebook globals);
* :func:`save_contact_sheet` writes a static PNG grid for executed notebooks and HTML, where
  widget callbacks never fire.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imsave
from matplotlib.patches import Rectangle

from .. import boxes
from ..data.crops import box_in_crop
from ..data.otb import OTBSequence
from ..evaluation.metrics import rect_iou
from ..tracking.tracker import SiamFCTracker, TrackerStep


@dataclass
class ViewerData:
    """Per-frame records of one tracked sequence (frame 0, the init frame, has no step)."""

    name: str
    steps: list[TrackerStep]       # steps[i] belongs to frame i + 1
    pred: np.ndarray               # (N, 4) 1-based OTB, frame 0 included
    gt: np.ndarray                 # (N, 4)
    instance_size: int = 255

    @property
    def ious(self) -> np.ndarray:
        return rect_iou(self.pred, self.gt)

    def __len__(self) -> int:
        return len(self.steps)


def record_sequence(tracker: SiamFCTracker, sequence: OTBSequence, max_frames: int | None = None) -> ViewerData:
    """Track ``sequence`` (first ``max_frames`` frames) keeping the viewer's per-frame data."""
    n = len(sequence) if max_frames is None else min(max_frames, len(sequence))
    tracker.record = True
    try:
        steps, pred = [], [np.asarray(sequence.gt[0], dtype=np.float64)]
        tracker.init(sequence.frame(0), sequence.gt[0])
        for i in range(1, n):
            pred.append(tracker.update(sequence.frame(i)))
            steps.append(tracker.last_step)
    finally:
        tracker.record = False
    return ViewerData(sequence.name, steps, np.asarray(pred), np.asarray(sequence.gt[:n]),
                      tracker.cfg.geometry.instance_size)


def _draw_box(ax, box_otb, step: TrackerStep, size: int, color: str, label: str) -> None:
    in_crop = box_in_crop(boxes.otb_to_cxcywh(box_otb), *step.crop_centre, step.crop_size, size)
    x, y, w, h = boxes.edges_xywh(in_crop)
    ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=color, linewidth=1.5, label=label))


def render_figure(data: ViewerData, index: int) -> Figure:
    """Figure for tracked frame ``index`` (0-based over ``data.steps``, i.e. video frame index + 1)."""
    step = data.steps[index]
    frame = index + 1
    fig = Figure(figsize=(8, 4), dpi=80)
    ax_img, ax_resp = fig.subplots(1, 2)
    ax_img.imshow(step.search_crop)
    _draw_box(ax_img, data.gt[frame], step, data.instance_size, "lime", "ground truth")
    _draw_box(ax_img, data.pred[frame], step, data.instance_size, "red", "SiamFC")
    ax_img.legend(loc="lower right", fontsize=7)
    ax_img.set_title(f"{data.name} frame {frame + 1}: IoU {data.ious[frame]:.2f}", fontsize=9)
    ax_img.axis("off")
    ax_resp.imshow(step.response, cmap="jet")
    row, col = np.unravel_index(int(np.argmax(step.response)), step.response.shape)
    ax_resp.plot([col], [row], "w+", markersize=12)
    ax_resp.set_title(f"response x{step.response.shape[0] // 17} (windowed), scale {step.scale_factor:.4f}",
                      fontsize=9)
    ax_resp.axis("off")
    fig.tight_layout()
    return fig


def figure_to_rgb(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def render_frame(data: ViewerData, index: int) -> np.ndarray:
    """Pure render: (data, index) -> RGB uint8 image of the two panels."""
    return figure_to_rgb(render_figure(data, index))


def png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    imsave(buf, rgb, format="png")
    return buf.getvalue()


def make_viewer(data: ViewerData, start: int = 0):
    """``(box, slider, image)``: an IntSlider driving a ``widgets.Image`` of PNG bytes."""
    import ipywidgets as widgets

    slider = widgets.IntSlider(value=start, min=0, max=max(len(data) - 1, 0), description="frame",
                               continuous_update=False)
    image = widgets.Image(value=png_bytes(render_frame(data, start)), format="png")

    def on_change(change) -> None:
        image.value = png_bytes(render_frame(data, int(change["new"])))

    slider.observe(on_change, names="value")
    return widgets.VBox([slider, image]), slider, image


def contact_sheet_indices(count: int, cells: int) -> list[int]:
    return sorted(set(np.linspace(0, count - 1, min(cells, count)).round().astype(int).tolist())) if count else []


def save_contact_sheet(data: ViewerData, path: str | Path, cells: int = 12, cols: int = 3) -> Path:
    """A static PNG grid of evenly spaced frames (what executed notebooks and HTML can show)."""
    indices = contact_sheet_indices(len(data), cells)
    if not indices:
        raise ValueError(f"{data.name}: no tracked frames to show")
    tiles = [render_frame(data, i) for i in indices]
    h, w, _ = tiles[0].shape
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * h, cols * w, 3), 255, dtype=np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = tile
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    imsave(path, sheet)
    return path


def show_frames(data: ViewerData, indices: Sequence[int]) -> list[np.ndarray]:
    return [render_frame(data, i) for i in indices]
