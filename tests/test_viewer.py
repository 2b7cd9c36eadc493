"""Response viewer and OTB plots, headless: pure render, kernel-less widget callback, contact sheet."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from otb_fixtures import write_sequence
from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.data.otb import OTBDataset
from siamfc_lib.evaluation.metrics import rect_iou, sequence_curves
from siamfc_lib.model import build_model
from siamfc_lib.tracking.tracker import SiamFCTracker
from siamfc_lib.visualisation.otb_plots import save_plots
from siamfc_lib.visualisation.response_viewer import (DISPLAY_WIDTH_PX, make_viewer, record_sequence, render_figure,
                                                      render_frame, save_contact_sheet)


@pytest.fixture(scope="module")
def otb(tmp_path_factory):
    root = tmp_path_factory.mktemp("OTB")
    write_sequence(root, "SynthV", 6)
    write_sequence(root, "SynthW", 4)
    torch.manual_seed(0)
    tracker = SiamFCTracker(build_model(width=0.25), TrackerConfig(), "cpu")
    return tracker, OTBDataset(root)


@pytest.fixture(scope="module")
def viewer_data(otb):
    tracker, dataset = otb
    data = record_sequence(tracker, dataset["SynthV"])
    assert tracker.record is False
    return data


def test_render_frame_is_pure_and_changes_with_the_frame(viewer_data):
    assert len(viewer_data) == 5 and viewer_data.ious[0] == pytest.approx(1.0)
    a, b = render_frame(viewer_data, 0), render_frame(viewer_data, 4)
    assert a.ndim == 3 and a.shape[2] == 3 and a.dtype == np.uint8
    np.testing.assert_array_equal(a, render_frame(viewer_data, 0))
    assert not np.array_equal(a, b)


def test_widget_callback_updates_the_image_without_a_kernel(viewer_data):
    viewer = make_viewer(viewer_data, scale=2.0)
    first = viewer.image.value
    viewer.slider.value = 4
    assert viewer.image.value != first
    decoded = imread(io.BytesIO(viewer.image.value), format="png")
    # Rendered at twice the displayed width, which the image widget is told.
    assert decoded.shape[1] == 2 * DISPLAY_WIDTH_PX and viewer.image.layout.width == f"{DISPLAY_WIDTH_PX}px"
    np.testing.assert_array_equal((decoded[..., :3] * 255).round().astype(np.uint8),
                                  render_frame(viewer_data, viewer.index, scale=2.0))


def test_slider_value_is_the_frame_number_in_the_title(viewer_data):
    """Slider k shows video frame k (1-based, as OTB numbers images): its IoU is that frame's IoU."""
    viewer = make_viewer(viewer_data, scale=0.5)
    assert (viewer.slider.min, viewer.slider.max) == (2, len(viewer_data.gt))
    for slider_value in (2, 4, 6):
        viewer.slider.value = slider_value
        title = render_figure(viewer_data, viewer.index).axes[0].get_title()
        k = slider_value - 1   # 0-based row of frame k in the ground truth
        iou = rect_iou(viewer_data.pred[k:k + 1], viewer_data.gt[k:k + 1])[0]
        assert title == f"SynthV: frame {slider_value} of {len(viewer_data.gt)}, IoU {iou:.2f}"


def test_play_and_sequence_choice(otb, viewer_data):
    tracker, dataset = otb
    recorded = []

    def record(name):
        recorded.append(name)
        return record_sequence(tracker, dataset[name])

    viewer = make_viewer(viewer_data, record=record, sequences=dataset.names, scale=0.5)
    assert (viewer.play.min, viewer.play.max) == (viewer.slider.min, viewer.slider.max)
    assert viewer.link.source == (viewer.play, "value") and viewer.link.target == (viewer.slider, "value")
    assert list(viewer.sequence.options) == ["SynthV", "SynthW"]
    viewer.slider.value = 5
    before = viewer.image.value
    viewer.sequence.value = "SynthW"
    assert recorded == ["SynthW"] and viewer.data.name == "SynthW"
    assert viewer.slider.value == 2 and viewer.slider.max == viewer.play.max == 4
    assert viewer.image.value != before
    viewer.sequence.value = "SynthV"
    assert recorded == ["SynthW"]   # cached


def test_executed_notebooks_get_a_png_not_the_widget_repr(viewer_data):
    bundle, metadata = make_viewer(viewer_data, scale=1.0)._repr_mimebundle_()   # scale 1: PNG width = display width
    png = imread(io.BytesIO(base64.b64decode(bundle["image/png"])), format="png")
    assert png.shape[1] == DISPLAY_WIDTH_PX and metadata["image/png"]["width"] == DISPLAY_WIDTH_PX
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert not bundle["text/plain"].startswith("VBox") and "contact sheet" in bundle["text/plain"]


def test_contact_sheet_and_plots(viewer_data, tmp_path):
    path = save_contact_sheet(viewer_data, tmp_path / "sheet.png", cells=4, cols=2, scale=2.0)
    sheet = imread(path)
    # Drawn for the notebook's width (shown at DISPLAY_WIDTH_PX, twice the pixels), two rows of two frames.
    assert sheet.shape[1] == 2 * DISPLAY_WIDTH_PX and sheet.shape[0] < sheet.shape[1]
    curves = {"SiamFC": sequence_curves(viewer_data.pred, viewer_data.gt)}
    paths = save_plots(curves, tmp_path / "plots")
    assert all(p.stat().st_size > 1000 for p in paths.values())


def test_the_legend_sits_below_the_crop_and_the_layout_keeps_its_height(viewer_data, monkeypatch):
    """Inside the crop the legend could hide the boxes; a status line appearing must not move the image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = render_figure(viewer_data, 0)
    FigureCanvasAgg(fig).draw()
    crop = fig.axes[0]
    legend = crop.get_legend().get_window_extent()
    assert legend.y1 <= crop.get_window_extent().y0 + 1
    viewer = make_viewer(viewer_data)
    assert viewer.status.layout.height and viewer.image.layout.height.endswith("px")


def test_a_reopened_notebook_is_told_to_run_the_viewer_cell_again(viewer_data, monkeypatch):
    import ipykernel  # noqa: F401 - as in a kernel: progress.bars_enabled reads JupyterLab's session name

    from siamfc_lib.visualisation import response_viewer

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setenv("JPY_SESSION_NAME", "05_eval_otb.ipynb")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("SIAMFC_NO_PROGRESS", raising=False)
    response_viewer.display_viewer(make_viewer(viewer_data))
    assert any("run this cell again" in str(getattr(o, "data", "")) for o in shown[1:])


def test_viewer_on_a_video_without_ground_truth_numbers_frames_as_the_video_does(viewer_data):
    """07: no ground truth, frames counted from the video's start_frame (0-based), the score in the title."""
    from dataclasses import replace

    from siamfc_lib.visualisation.response_viewer import frame_title

    video = replace(viewer_data, name="clip.mp4", gt=None, first_frame=40,
                    scores=np.linspace(1.0, 0.5, len(viewer_data.pred)))
    assert video.ious is None and video.frame_number(0) == 41 and video.index_of(41) == 0
    assert frame_title(video, 0) == f"clip.mp4: frame 41 of {40 + len(video.pred) - 1}, score {video.scores[1]:.2f}"
    viewer = make_viewer(video)
    assert (viewer.slider.min, viewer.slider.value) == (41, 41)
    assert viewer.slider.max == video.frame_number(len(video) - 1)
    viewer.slider.value = 43
    assert viewer.index == 2 and viewer.image.value
    assert render_frame(video, 1, width_px=300).shape[2] == 3
