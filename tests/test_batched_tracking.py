"""Many sequences in lockstep give the boxes that tracking them one by one gives."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from otb_fixtures import moving_target_frames, write_sequence
from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.model import build_model
from siamfc_lib.tracking.batched import BatchedSiamFC, MultiSiamFC
from siamfc_lib.tracking.tracker import SiamFCTracker


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(width=0.25).eval()


@pytest.mark.parametrize("backend", ["warp", "grid"])
def test_batched_equals_sequential_with_mixed_sizes_and_lengths(model, backend):
    """Same boxes (1e-3 px, fp32) as the one-sequence tracker on the same crop path, for two
    networks sharing each frame, one of them skipping some sequences."""
    torch.manual_seed(1)
    other = build_model(width=0.25).eval()
    specs = [(8, (96, 128), 0), (5, (80, 100), 1), (6, (96, 128), 2), (4, (90, 140), 3)]
    sequences = [moving_target_frames(n, size=size, seed=seed) for n, size, seed in specs]
    expected = {name: [SiamFCTracker(net, TrackerConfig(), "cpu", crop_backend=backend).track_frames(f, g[0])[0]
                       for f, g in sequences] for name, net in (("a", model), ("b", other))}
    engine = MultiSiamFC({"a": model, "b": other}, TrackerConfig(), "cpu", batch_size=3, crop_backend=backend)
    jobs = [(f, g[0], ["a", "b"] if i % 2 == 0 else ["b"]) for i, (f, g) in enumerate(sequences)]
    seen = {}
    for index, name, boxes_otb, times in engine.track(jobs):
        assert times.shape == (len(boxes_otb),) and (times > 0).all()
        seen[(index, name)] = boxes_otb
    assert sorted(seen) == [(0, "a"), (0, "b"), (1, "b"), (2, "a"), (2, "b"), (3, "b")]
    for (index, name), boxes_otb in seen.items():
        assert np.abs(boxes_otb - expected[name][index]).max() < 1e-3, (index, name)
    one = dict((i, b) for i, b, _ in BatchedSiamFC(model, TrackerConfig(), "cpu", batch_size=2,
                                                  crop_backend=backend).track_many([(f, g[0]) for f, g in sequences[:2]]))
    for index, boxes_otb in one.items():
        assert np.abs(boxes_otb - expected["a"][index]).max() < 1e-3


def test_runner_batched_by_default_writes_the_one_by_one_results(model, tmp_path):
    """05's default (batched, frames decoded by a worker process) == tracking one by one."""
    from siamfc_lib.config import EvalConfig
    from siamfc_lib.evaluation.evaluate import run_evaluation

    assert EvalConfig().batch_sequences > 1
    otb = tmp_path / "OTB"
    for i, name in enumerate(("SynthA", "SynthB", "SynthC")):
        write_sequence(otb, name, 6 + 2 * i, seed=i)
    base = {"otb_root": str(otb), "device": "cpu", "compare_untrained": False, "progress": False}
    one = run_evaluation({**base, "run_dir": str(tmp_path / "seq"), "batch_sequences": 1}, model=model,
                         log=lambda s: None)
    many = run_evaluation({**base, "run_dir": str(tmp_path / "bat"), "batch_sequences": 2, "decode_workers": 1},
                          model=model, log=lambda s: None)
    for name in ("SynthA", "SynthB", "SynthC"):
        a = np.loadtxt(tmp_path / "seq" / "results" / "SiamFC" / f"{name}.txt", delimiter=",")
        b = np.loadtxt(tmp_path / "bat" / "results" / "SiamFC" / f"{name}.txt", delimiter=",")
        assert np.abs(a - b).max() < 1e-3
        assert (tmp_path / "bat" / "times" / f"{name}_time.txt").exists()
    # the fingerprint stamp is the one-sequence tracker's, so either mode resumes the other's results
    assert (tmp_path / "seq" / "results" / "SiamFC" / ".tracker").read_text() == \
        (tmp_path / "bat" / "results" / "SiamFC" / ".tracker").read_text()
    assert one.reports["SiamFC"]["auc"] == pytest.approx(many.reports["SiamFC"]["auc"], abs=1e-6)
    assert json.loads((tmp_path / "bat" / "report.json").read_text())["frames"] == 24
