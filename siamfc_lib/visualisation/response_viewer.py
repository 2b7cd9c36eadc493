"""Scrub through a tracked sequence: search region with boxes beside the windowed response.

* :func:`record_sequence` tracks with ``record=True`` and keeps, per frame, what the tracker
  saw (search crop of the chosen scale, 272x272 response after the window, chosen scale);
* :func:`render_frame` is pure (data, index -> RGB array); it draws on its own Agg canvas, so
  it neither needs nor changes the pyplot backend;
* :func:`make_viewer` wraps it in widgets: a sequence dropdown, a play button and a slider
  over video frame numbers (the number in the title), updating a ``widgets.Image`` of PNG
  bytes rendered at ``scale`` x the displayed size, so text stays sharp on HiDPI screens;
* executed notebooks and HTML have no kernel behind the widgets: the viewer's own
  ``_repr_mimebundle_`` carries a PNG of the current frame beside the widget view, and
  :func:`save_contact_sheet` writes a static grid sized for the notebook's width.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imsave
from matplotlib.patches import Rectangle
from matplotlib.patheffects import withStroke

from .. import boxes
from ..data.crops import box_in_crop
from ..data.otb import OTBSequence
from ..evaluation.metrics import rect_iou
from ..tracking.tracker import SiamFCTracker, TrackerStep


@dataclass
class ViewerData:
    """Per-frame records of one tracked sequence (frame 0, the init frame, has no step).

    ``gt`` None (a user's video): titles give ``scores`` (the relative confidence) instead of
    the IoU. ``first_frame``: the number of the init frame as its source counts (OTB: 1; a
    video: the 0-based ``start_frame``).
    """

    name: str
    steps: list[TrackerStep]       # steps[i] belongs to frame i + 1
    pred: np.ndarray               # (N, 4) 1-based OTB, frame 0 included
    gt: np.ndarray | None          # (N, 4) with NaN rows where the benchmark has no box; None for a video
    instance_size: int = 255
    first_frame: int = 1
    scores: np.ndarray | None = None   # (N,) confidence per frame, frame 0 included

    @property
    def ious(self) -> np.ndarray | None:
        return None if self.gt is None else rect_iou(self.pred, self.gt)

    def __len__(self) -> int:
        return len(self.steps)

    def frame_number(self, index: int) -> int:
        """Source frame number of tracked frame ``index`` (the number after the init frame's)."""
        return self.first_frame + index + 1

    def index_of(self, frame_number: int) -> int:
        return int(frame_number) - self.first_frame - 1


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
    return ViewerData(sequence.name, steps, np.asarray(pred), known_boxes(sequence.gt, n),
                      tracker.cfg.geometry.instance_size)


def known_boxes(gt, n: int) -> np.ndarray:
    """The first ``n`` ground-truth rows, NaN where there is none (GOT-10k test gives only the first)."""
    out = np.full((n, 4), np.nan)
    rows = np.asarray(gt, dtype=np.float64)[:n]
    out[:len(rows)] = rows
    return out


# The viewer's displayed width in CSS pixels (JupyterLab's notebook column is about 1000 px).
DISPLAY_WIDTH_PX = 900
PANEL_ASPECT = 0.47            # height / width of the two-panel figure
# Boxes are drawn over a halo of the opposite lightness, so they stay visible on any target:
# prediction solid red over white, ground truth dashed green over black.
PRED_STYLE = dict(edgecolor="red", linestyle="-", halo="white", label="SiamFC (prediction)")
GT_STYLE = dict(edgecolor="lime", linestyle=(0, (4, 2)), halo="black", label="ground truth")


def _draw_box(ax, box_otb, step: TrackerStep, size: int, style: dict) -> None:
    if not np.all(np.isfinite(box_otb)):
        return                      # no ground truth in this frame
    in_crop = box_in_crop(boxes.otb_to_cxcywh(box_otb), *step.crop_centre, step.crop_size, size)
    x, y, w, h = boxes.edges_xywh(in_crop)
    ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=style["edgecolor"], linestyle=style["linestyle"],
                           linewidth=2.0, label=style["label"],
                           path_effects=[withStroke(linewidth=4.5, foreground=style["halo"])]))


def frame_quality(data: ViewerData, frame: int) -> str:
    """``IoU 0.83`` against the ground truth, or ``score 0.91`` where there is none."""
    if data.gt is not None:
        iou = data.ious[frame]
        return f"IoU {iou:.2f}" if np.isfinite(iou) else "no ground truth"
    return f"score {data.scores[frame]:.2f}" if data.scores is not None else ""


def frame_title(data: ViewerData, index: int) -> str:
    last = data.frame_number(len(data.pred) - 2)
    return f"{data.name}: frame {data.frame_number(index)} of {last}, {frame_quality(data, index + 1)}".rstrip(", ")


def render_figure(data: ViewerData, index: int, width_px: int = DISPLAY_WIDTH_PX, scale: float = 1.0) -> Figure:
    """Figure for tracked frame ``index`` (0-based over ``data.steps``; video frame ``index + 2``).

    ``width_px`` is the width it will be shown at, so 10 pt text is 10 pt on screen;
    ``scale`` multiplies the pixels (2 for HiDPI screens).
    """
    step = data.steps[index]
    frame = index + 1
    fig = Figure(figsize=(width_px / 100, width_px * PANEL_ASPECT / 100), dpi=100 * scale)
    ax_img, ax_resp = fig.subplots(1, 2)
    ax_img.imshow(step.search_crop)
    if data.gt is not None:
        _draw_box(ax_img, data.gt[frame], step, data.instance_size, GT_STYLE)
    _draw_box(ax_img, data.pred[frame], step, data.instance_size, PRED_STYLE)
    # Below the crop, not on it: inside, it can hide the boxes it explains.
    ax_img.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2, fontsize=8, frameon=False,
                  handlelength=2.5)
    ax_img.set_title(frame_title(data, index), fontsize=10)
    ax_img.axis("off")
    ax_resp.imshow(step.response, cmap="jet")
    row, col = np.unravel_index(int(np.argmax(step.response)), step.response.shape)
    ax_resp.plot([col], [row], "w+", markersize=12, markeredgewidth=2)
    ax_resp.set_title(f"response x{step.response.shape[0] // 17} (windowed), scale {step.scale_factor:.4f}",
                      fontsize=10)
    ax_resp.axis("off")
    fig.tight_layout()
    return fig


def figure_to_rgb(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def render_frame(data: ViewerData, index: int, width_px: int = DISPLAY_WIDTH_PX, scale: float = 1.0) -> np.ndarray:
    """Pure render: (data, index) -> RGB uint8 image of the two panels."""
    return figure_to_rgb(render_figure(data, index, width_px, scale))


def png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    imsave(buf, rgb, format="png")
    return buf.getvalue()


class ResponseViewer:
    """Sequence dropdown, play button and frame slider over one tracked sequence at a time.

    ``record(name)`` tracks another sequence when the dropdown changes (results are cached).
    The slider's value is the video frame number shown in the title.
    """

    def __init__(self, data: ViewerData, record: Callable[[str], ViewerData] | None = None,
                 sequences: Sequence[str] | None = None, width_px: int = DISPLAY_WIDTH_PX, scale: float = 2.0,
                 interval_ms: int = 300):
        import ipywidgets as widgets

        self.width_px, self.scale = width_px, scale
        self._record = record
        self._cache = {data.name: data}
        self._pngs: dict[tuple[str, int], bytes] = {}   # rendered once: play loops stay smooth
        self.data = data
        names = list(sequences) if sequences and record is not None else [data.name]
        self.sequence = widgets.Dropdown(options=names, value=data.name, description="sequence")
        first = data.frame_number(0)
        self.slider = widgets.IntSlider(min=first, max=first, value=first, description="frame",
                                        continuous_update=False, layout=widgets.Layout(width="420px"))
        self.play = widgets.Play(min=first, max=first, value=first, step=1, interval=interval_ms, description="play")
        self.link = widgets.jslink((self.play, "value"), (self.slider, "value"))
        # Fixed heights: the layout must not jump while another sequence is tracked.
        self.status = widgets.HTML(layout=widgets.Layout(height="1.8em"))
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{width_px}px", height=f"{round(width_px * PANEL_ASPECT)}px"))
        self.widget = widgets.VBox([widgets.HBox([self.sequence, self.play, self.slider]), self.status, self.image])
        self._set_data(data)
        self.slider.observe(lambda change: self.show(int(change["new"])), names="value")
        self.sequence.observe(lambda change: self.select(change["new"]), names="value")

    def _set_data(self, data: ViewerData) -> None:
        self.data = data
        self._pngs.clear()   # one sequence's frames at a time (a few hundred KB each at 2x width)
        first, previous = data.frame_number(0), self.slider.value
        last = max(data.frame_number(len(data) - 1), first)
        for control in (self.slider, self.play):        # widen first, so no bound ever crosses the other
            control.min, control.max = min(control.min, first), max(control.max, last)
        self.slider.value = self.play.value = first      # a change renders through the observer
        for control in (self.slider, self.play):
            control.min, control.max = first, last
        if previous == first:
            self.show(first)

    def select(self, name: str) -> None:
        if name not in self._cache:
            self.status.value = f"tracking {name} ..."
            self._cache[name] = self._record(name)
        self.status.value = ""
        self._set_data(self._cache[name])

    @property
    def index(self) -> int:
        return self.data.index_of(self.slider.value)

    def show(self, frame_number: int) -> None:
        index = self.data.index_of(frame_number)
        if 0 <= index < len(self.data):
            key = (self.data.name, index)
            if key not in self._pngs:
                self._pngs[key] = png_bytes(render_frame(self.data, index, self.width_px, self.scale))
            self.image.value = self._pngs[key]

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The widget view for JupyterLab; a PNG of the current frame where no kernel drives it."""
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle = dict(bundle)
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/plain"] = (f"Response viewer of {self.data.name} (sequence, play, frame slider): it needs a "
                                "running kernel; the contact sheet below is the static copy.")
        metadata = {"image/png": {"width": self.width_px,
                                  "alt": f"Response viewer of {self.data.name}: the search region with the "
                                         "ground truth and the prediction, beside the response map"}}
        return bundle, metadata


REOPENED_NOTE = ("If the viewer above shows *Error displaying widget: model not found*, the kernel that made it "
                 "is gone (the notebook was reopened or the kernel restarted): run this cell again.")


def display_viewer(viewer: "ResponseViewer") -> None:
    """Show the viewer; in JupyterLab also the one line that explains a reopened notebook's widget error."""
    from IPython.display import Markdown, display

    from ..progress import bars_enabled

    display(viewer)
    if bars_enabled():          # a live JupyterLab session (papermill and CI show the PNG instead)
        display(Markdown(REOPENED_NOTE))


def make_viewer(data: ViewerData, record: Callable[[str], ViewerData] | None = None,
                sequences: Sequence[str] | None = None, **kwargs) -> ResponseViewer:
    """A :class:`ResponseViewer`; display it (``display(viewer)``) or embed ``viewer.widget``."""
    return ResponseViewer(data, record, sequences, **kwargs)


def contact_sheet_indices(count: int, cells: int) -> list[int]:
    return sorted(set(np.linspace(0, count - 1, min(cells, count)).round().astype(int).tolist())) if count else []


def contact_sheet_figure(data: ViewerData, indices: Sequence[int], cols: int = 3,
                         width_px: int = DISPLAY_WIDTH_PX, scale: float = 2.0) -> Figure:
    """Crop and response side by side per frame, ``cols`` frames a row, sized for ``width_px``."""
    rows = -(-len(indices) // cols)
    cell_w = width_px / cols
    fig = Figure(figsize=(width_px / 100, rows * cell_w * 0.64 / 100), dpi=100 * scale)
    axes = fig.subplots(rows, 2 * cols, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k, index in enumerate(indices):
        r, c = divmod(k, cols)
        step, frame = data.steps[index], index + 1
        ax_img, ax_resp = axes[r, 2 * c], axes[r, 2 * c + 1]
        ax_img.imshow(step.search_crop)
        if data.gt is not None:
            _draw_box(ax_img, data.gt[frame], step, data.instance_size, {**GT_STYLE, "label": None})
        _draw_box(ax_img, data.pred[frame], step, data.instance_size, {**PRED_STYLE, "label": None})
        ax_resp.imshow(step.response, cmap="jet")
        ax_img.set_title(f"frame {data.frame_number(index)}, {frame_quality(data, frame)}".rstrip(", "),
                         fontsize=9, loc="left")
    boxes_drawn = "green dashed: ground truth, red: prediction" if data.gt is not None else "red: prediction"
    fig.suptitle(f"{data.name}: search region ({boxes_drawn}) and response", fontsize=10)
    fig.tight_layout(pad=0.4, w_pad=0.2, h_pad=1.4, rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))
    return fig


def save_contact_sheet(data: ViewerData, path: str | Path, cells: int = 12, cols: int = 3,
                       width_px: int = DISPLAY_WIDTH_PX, scale: float = 2.0) -> Path:
    """A static PNG grid of evenly spaced frames (what executed notebooks and HTML can show).

    Show it at ``width_px`` (``IPython.display.Image(filename, width=width_px)``): its text is
    then 9-10 pt on screen, and ``scale`` x the pixels keep it sharp.
    """
    indices = contact_sheet_indices(len(data), cells)
    if not indices:
        raise ValueError(f"{data.name}: no tracked frames to show")
    fig = contact_sheet_figure(data, indices, cols, width_px, scale)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    imsave(path, figure_to_rgb(fig))
    return path
