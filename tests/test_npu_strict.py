"""Training, tracking, the batched evaluator and the eval runner on a strict NPU stand-in:
nothing asks for a feature the capability table says an NPU lacks."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import npu_standin
from otb_fixtures import moving_target_frames, write_sequence
from train_fixtures import tiny_curation, tiny_train_cfg

from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.devices import DeviceError
from siamfc_lib.model import build_model
from siamfc_lib.training import trainer
from siamfc_lib.training.run_log import read_metrics
from siamfc_lib.tracking.batched import BatchedSiamFC
from siamfc_lib.tracking.tracker import SiamFCTracker


pytestmark = pytest.mark.usefixtures("fresh_npu_cache")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_curation(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(width=0.25).eval()


def _cfg(data, run_dir, **kw):
    defaults = dict(device="npu", pairs_per_epoch=4, val_pairs=2, epochs=1, log_every=1)
    return tiny_train_cfg(data, run_dir, "ascend", **{**defaults, **kw})


def test_the_stand_in_rejects_what_torch_npu_rejects(monkeypatch):
    npu = npu_standin.install(monkeypatch)
    with pytest.raises(RuntimeError, match="Only contiguous_format or preserve_format is supported"):
        torch.zeros(1, 3, 4, 4).contiguous(memory_format=torch.channels_last)
    with pytest.raises(RuntimeError, match="not supported on this chip"):
        torch.autocast("npu", dtype=torch.bfloat16)
    assert len(npu.violations) == 2


def test_two_fp16_training_steps(data, tmp_path, monkeypatch):
    npu = npu_standin.install(monkeypatch)
    summary = trainer.train(_cfg(data, tmp_path / "run"), echo=False)
    assert npu.violations == []
    assert summary["device"] == "npu:0" and summary["precision"].startswith("fp16 with its fp32 parts")
    assert summary["device_name"] == "Ascend910A (stand-in)"
    assert len(npu.scalers) == 1 and npu.scalers[0].dynamic and npu.scalers[0].is_enabled()
    steps = [r for r in read_metrics(tmp_path / "run") if r["kind"] == "step"]
    assert [r["step"] for r in steps] == ["1", "2"]
    assert all(r["overflow_skipped"] != "" and int(r["overflow_skipped"]) >= 0 for r in steps)
    assert np.isfinite(summary["final_loss"])


def test_the_demo_layout_setting_means_contiguous_on_the_npu(data, tmp_path, monkeypatch):
    """channels_last: null (the demo's) is the device's choice: on an NPU, never channels_last."""
    npu = npu_standin.install(monkeypatch)
    trainer.train(_cfg(data, tmp_path / "run", channels_last=None), echo=False)
    assert npu.violations == []


def test_static_loss_scale_reaches_the_npu_scaler(data, tmp_path, monkeypatch):
    npu = npu_standin.install(monkeypatch)
    trainer.train(_cfg(data, tmp_path / "run", loss_scale=128), echo=False)
    assert npu.violations == []
    (scaler,) = npu.scalers
    assert not scaler.dynamic and scaler._init_scale == 128.0


@pytest.mark.parametrize("option, fix", [({"amp": "bf16"}, "use amp: fp16 or amp: none"),
                                         ({"channels_last": True}, "set channels_last: false"),
                                         ({"compile": True}, "set compile: false")])
def test_what_the_chip_cannot_do_fails_before_training_naming_the_fix(data, tmp_path, monkeypatch, option, fix):
    npu = npu_standin.install(monkeypatch)
    with pytest.raises(DeviceError, match=fix):
        trainer.train(_cfg(data, tmp_path / "run", **option), echo=False)
    assert npu.violations == []


def test_twenty_tracked_frames(model, monkeypatch):
    frames, gt = moving_target_frames(20, seed=4)
    npu = npu_standin.install(monkeypatch)
    tracker = SiamFCTracker(model, TrackerConfig(), "npu:0")
    boxes, _ = tracker.track_frames(frames, gt[0])
    assert npu.violations == []
    assert tracker.crop_backend == "grid" and not tracker.device_step.cuda_graphs
    assert boxes.shape == (20, 4) and np.abs(boxes[-1, :2] - gt[-1, :2]).max() < 4
    half, _ = SiamFCTracker(model, TrackerConfig(), "npu:0", amp="fp16").track_frames(frames[:2], gt[0])
    assert npu.violations == [] and np.isfinite(half).all()     # fp16 on the CPU underneath is slow
    with pytest.raises(DeviceError, match="amp: bf16 is not supported"):
        SiamFCTracker(model, TrackerConfig(), "npu:0", amp="bf16")


def test_bf16_where_the_chip_has_it(model, monkeypatch):
    frames, gt = moving_target_frames(2, seed=4)
    npu = npu_standin.install(monkeypatch, bf16=True)
    boxes, _ = SiamFCTracker(model, TrackerConfig(), "npu", amp="bf16").track_frames(frames, gt[0])
    assert npu.violations == [] and np.isfinite(boxes).all()


def test_batched_evaluator_and_eval_runner(model, tmp_path, monkeypatch):
    from siamfc_lib.evaluation.evaluate import run_evaluation

    otb = tmp_path / "OTB"
    for i, name in enumerate(("SynthA", "SynthB")):
        write_sequence(otb, name, 4 + i, seed=i)
    sequences = [moving_target_frames(n, seed=s) for n, s in ((3, 0), (5, 1))]
    npu = npu_standin.install(monkeypatch)
    done = dict((i, b) for i, b, _ in BatchedSiamFC(model, TrackerConfig(), "npu", batch_size=2)
                .track_many([(f, g[0]) for f, g in sequences]))
    assert sorted(done) == [0, 1] and done[1].shape == (5, 4)
    base = {"otb_root": str(otb), "device": "npu", "compare_untrained": False, "progress": False}
    for options in ({"batch_sequences": 2}, {"crop_backend": "auto"}):
        result = run_evaluation({**base, "run_dir": str(tmp_path / str(len(options)) / str(options)), **options},
                                model=model, log=lambda s: None)
        assert 0 <= result.reports["SiamFC"]["auc"] <= 1
    assert npu.violations == []
