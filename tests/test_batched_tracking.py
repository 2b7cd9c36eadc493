"""Many sequences in lockstep give the boxes that tracking them one by one gives."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from otb_fixtures import moving_target_frames, write_sequence
from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.model import build_model
from siamfc_lib.tracking.batched import BatchedSiamFC
from siamfc_lib.tracking.tracker import SiamFCTracker


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(width=0.25).eval()


def test_batched_equals_sequential_with_mixed_sizes_and_lengths(model):
    specs = [(12, (96, 128), 0), (7, (80, 100), 1), (10, (96, 128), 2), (5, (90, 140), 3)]
    sequences = [moving_target_frames(n, size=size, seed=seed) for n, size, seed in specs]
    expected = [SiamFCTracker(model, TrackerConfig(), "cpu", crop_backend="grid").track_frames(f, g[0])[0]
                for f, g in sequences]
    seen = {}
    for index, boxes_otb, times in BatchedSiamFC(model, TrackerConfig(), "cpu", batch_size=3).track_many(
            [(f, g[0]) for f, g in sequences]):
        assert times.shape == (len(boxes_otb),) and (times > 0).all()
        seen[index] = boxes_otb
    assert sorted(seen) == [0, 1, 2, 3]
    for index, boxes_otb in seen.items():
        assert np.abs(boxes_otb - expected[index]).max() < 1e-3, index


def test_runner_batch_option_writes_the_same_results(model, tmp_path):
    from siamfc_lib.evaluation.runner import run_evaluation

    otb = tmp_path / "OTB"
    for i, name in enumerate(("SynthA", "SynthB", "SynthC")):
        write_sequence(otb, name, 6 + 2 * i, seed=i)
    base = {"otb_root": str(otb), "device": "cpu", "compare_untrained": False, "progress": False}
    one = run_evaluation({**base, "run_dir": str(tmp_path / "seq"), "crop_backend": "grid"}, model=model,
                         log=lambda s: None)
    many = run_evaluation({**base, "run_dir": str(tmp_path / "bat"), "batch_sequences": 2}, model=model,
                          log=lambda s: None)
    for name in ("SynthA", "SynthB", "SynthC"):
        a = np.loadtxt(tmp_path / "seq" / "results" / "SiamFC" / f"{name}.txt", delimiter=",")
        b = np.loadtxt(tmp_path / "bat" / "results" / "SiamFC" / f"{name}.txt", delimiter=",")
        assert np.abs(a - b).max() < 1e-3
        assert (tmp_path / "bat" / "times" / f"{name}_time.txt").exists()
    assert one.reports["SiamFC"]["auc"] == pytest.approx(many.reports["SiamFC"]["auc"], abs=1e-6)
    assert json.loads((tmp_path / "bat" / "report.json").read_text())["frames"] == 24
