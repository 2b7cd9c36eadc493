"""Response viewer and OTB plots, headless: pure render, kernel-less widget callback, contact sheet."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from otb_fixtures import write_sequence
from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.data.otb import OTBDataset
from siamfc_lib.evaluation.metrics import sequence_curves
from siamfc_lib.model import build_model
from siamfc_lib.tracking.tracker import SiamFCTracker
from siamfc_lib.visualisation.otb_plots import save_plots
from siamfc_lib.visualisation.response_viewer import make_viewer, record_sequence, render_frame, save_contact_sheet


@pytest.fixture(scope="module")
def viewer_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("OTB")
    write_sequence(root, "SynthV", 6)
    torch.manual_seed(0)
    tracker = SiamFCTracker(build_model(width=0.25), TrackerConfig(), "cpu")
    data = record_sequence(tracker, OTBDataset(root)["SynthV"])
    assert tracker.record is False
    return data


def test_render_frame_is_pure_and_changes_with_the_frame(viewer_data):
    assert len(viewer_data) == 5 and viewer_data.ious[0] == pytest.approx(1.0)
    a, b = render_frame(viewer_data, 0), render_frame(viewer_data, 4)
    assert a.ndim == 3 and a.shape[2] == 3 and a.dtype == np.uint8
    np.testing.assert_array_equal(a, render_frame(viewer_data, 0))
    assert not np.array_equal(a, b)


def test_widget_callback_updates_the_image_without_a_kernel(viewer_data):
    box, slider, image = make_viewer(viewer_data)
    first = image.value
    slider.value = 3
    assert image.value != first
    decoded = imread(io.BytesIO(image.value), format="png")
    assert decoded.shape[:2] == render_frame(viewer_data, 3).shape[:2]


def test_contact_sheet_and_plots(viewer_data, tmp_path):
    path = save_contact_sheet(viewer_data, tmp_path / "sheet.png", cells=4, cols=2)
    sheet = imread(path)
    tile = render_frame(viewer_data, 0)
    assert sheet.shape[0] == 2 * tile.shape[0] and sheet.shape[1] == 2 * tile.shape[1]
    curves = {"SiamFC": sequence_curves(viewer_data.pred, viewer_data.gt)}
    paths = save_plots(curves, tmp_path / "plots")
    assert all(p.stat().st_size > 1000 for p in paths.values())
