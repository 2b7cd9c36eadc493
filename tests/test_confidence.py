"""The per-frame confidence: hand-computed on small maps, equal on the host and device paths,
and never a change to the boxes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from otb_fixtures import moving_target_frames
from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.model import build_model
from siamfc_lib.tracking.confidence import ConfidenceTrace, map_score, map_scores
from siamfc_lib.tracking.response import upsample_bicubic
from siamfc_lib.tracking.tracker import SiamFCTracker


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(width=0.25).eval()


def test_score_and_sharpness_by_hand():
    # values 0, 0, 0, 4: mean 1, population std sqrt(3), peak 4 -> (4 - 1) / sqrt(3)
    score, sharp = map_score(np.array([[0.0, 0.0], [0.0, 4.0]]))
    assert score == 4.0 and sharp == pytest.approx(3 / np.sqrt(3))
    assert map_score(np.full((17, 17), -2.5)) == (-2.5, 0.0)       # a flat map has no peak


def test_device_twin_picks_the_chosen_scale_and_agrees():
    rng = np.random.default_rng(3)
    raw = rng.normal(size=(2, 3, 1, 17, 17)).astype(np.float32)
    best = torch.tensor([2, 0])
    got = map_scores(torch.from_numpy(raw), best).numpy()
    for b in range(2):
        np.testing.assert_allclose(got[b], map_score(raw[b, int(best[b])]), rtol=1e-5)


def test_relative_score_and_lost_marks():
    trace = ConfidenceTrace(reference=8.0, lost_below=0.4)
    assert trace.add(6.0, 5.0) == (0.75, False)
    assert trace.add(3.0, 2.0) == (0.375, True)
    assert trace.add(-1.0, 1.0) == (-0.125, True)
    np.testing.assert_array_equal(trace.lost, [False, True, True])
    untrained = ConfidenceTrace(reference=-0.3)        # no meaningful reference: nothing is marked
    relative, lost = untrained.add(-2.0, 1.0)
    assert np.isnan(relative) and not lost


def _chosen_map_score(tracker: SiamFCTracker, frame: np.ndarray) -> tuple[float, float]:
    """By hand from the maps the next update will see: pick the scale as the paper does, then
    peak and (peak - mean) / std of that scale's raw map."""
    raw, _, _ = tracker.responses(frame)
    cfg = tracker.cfg
    up = upsample_bicubic(raw, cfg.response_up).numpy()
    peaks = up.reshape(3, -1).max(axis=1) * np.array([cfg.scale_penalty, 1.0, cfg.scale_penalty])
    chosen = raw[int(np.argmax(peaks)), 0].numpy().astype(np.float64)
    return chosen.max(), (chosen.max() - chosen.mean()) / chosen.std()


@pytest.mark.parametrize("backend", ["warp", "grid"])
def test_last_score_is_the_chosen_maps_peak_and_boxes_do_not_change(model, backend):
    frames, gt = moving_target_frames(6)
    expected, _ = SiamFCTracker(model, TrackerConfig(), "cpu", crop_backend=backend).track_frames(frames, gt[0])
    tracker = SiamFCTracker(model, TrackerConfig(), "cpu", crop_backend=backend)
    tracker.init(frames[0], gt[0])
    reference = tracker.first_frame_score(frames[0])
    np.testing.assert_array_equal(tracker.state.box(), gt[0])      # the extra pass moved nothing
    assert reference == pytest.approx(float(tracker.responses(frames[0])[0][1].max()))   # centre scale
    for i, frame in enumerate(frames[1:], 1):
        by_hand = _chosen_map_score(tracker, frame)
        np.testing.assert_array_equal(tracker.update(frame), expected[i])
        np.testing.assert_allclose(tracker.last_score, by_hand, rtol=2e-3 if backend == "grid" else 1e-6)
