"""Tracker mechanics, baselines, the evaluation runner and the epoch sweep (small CPU fixtures)."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from otb_fixtures import moving_target_frames, write_sequence
from siamfc_lib import boxes
from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.data.otb import OTBDataset
from siamfc_lib.model import build_model
from siamfc_lib.tracking.baselines import UnknownBaselineError, make_baselines
from siamfc_lib.tracking.response import damped_scale, upsample_bicubic
from siamfc_lib.tracking.search_crops import frame_to_device, grid_crops, warp_crops
from siamfc_lib.tracking.tracker import SiamFCTracker


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(width=0.25).eval()


def test_flat_frame_keeps_the_box_in_one_based_otb(model):
    frame = np.full((120, 160, 3), 100, dtype=np.uint8)
    box = [41.0, 31.0, 24.0, 20.0]
    t = SiamFCTracker(model, TrackerConfig(), "cpu")
    t.init(frame, box)
    out = t.update(frame)
    # uniform response: centre scale, peak at the window's centre pixel (135 of 0..271 -> -0.5 map px)
    assert out[2:] == pytest.approx(box[2:])
    assert np.abs(out[:2] - box[:2]).max() <= 0.5 * 8 / 16 * t.state.search_side / 255 + 1e-9


def test_track_frames_format_and_bounds(model):
    frames, gt = moving_target_frames(25)
    t = SiamFCTracker(model, TrackerConfig(), "cpu")
    out, times = t.track_frames(frames, gt[0])
    assert out.shape == (25, 4) and times.shape == (25,) and (times > 0).all()
    assert np.array_equal(out[0], gt[0])
    centres = boxes.otb_to_cxcywh(out)[:, :2]
    assert (centres >= 0).all() and (centres[:, 0] <= 127).all() and (centres[:, 1] <= 95).all()


def test_deterministic(model):
    frames, gt = moving_target_frames(10, seed=3)
    a, _ = SiamFCTracker(model, TrackerConfig(), "cpu").track_frames(frames, gt[0])
    b, _ = SiamFCTracker(model, TrackerConfig(), "cpu").track_frames(frames, gt[0])
    np.testing.assert_array_equal(a, b)


def test_three_scales_in_one_forward_pass(model):
    frames, gt = moving_target_frames(4)
    t = SiamFCTracker(model, TrackerConfig(), "cpu")
    batches = []
    hook = t.model.backbone.register_forward_hook(lambda m, inp, out: batches.append(inp[0].shape[0]))
    try:
        t.track_frames(frames, gt[0])
    finally:
        hook.remove()
    assert batches == [1, 3, 3, 3]


class _ForcedScale(SiamFCTracker):
    """Responses peaking at the centre of scale ``forced`` only."""

    forced = 2

    def responses(self, frame_rgb):
        raw = torch.zeros(3, 1, 17, 17)
        raw[self.forced, 0, 8, 8] = 1.0
        return raw, None, self.state.search_side * self.scales


def test_scale_damping_and_clamp(model):
    frame = np.full((120, 160, 3), 100, dtype=np.uint8)
    t = _ForcedScale(model, TrackerConfig(), "cpu")
    t.init(frame, [41, 31, 24, 20])
    side0, size0 = t.state.search_side, t.state.target_size.copy()
    t.update(frame)
    factor = 1 + 0.59 * (1.0375 - 1)
    assert damped_scale(1.0375, 0.59) == pytest.approx(factor)
    assert t.state.search_side == pytest.approx(side0 * factor)
    np.testing.assert_allclose(t.state.target_size, size0 * factor)
    for _ in range(100):
        t.update(frame)
    assert t.state.search_side == pytest.approx(5 * side0)
    t.forced = 0
    for _ in range(220):
        t.update(frame)
    assert t.state.search_side == pytest.approx(0.2 * side0)


def test_upsampling_is_truly_bicubic():
    r = torch.from_numpy(np.random.default_rng(0).normal(size=(1, 1, 17, 17)).astype(np.float32))
    up = upsample_bicubic(r, 16)[0].numpy()
    bilinear = F.interpolate(r, size=(272, 272), mode="bilinear", align_corners=False)[0, 0].numpy()
    assert up.shape == (272, 272) and np.abs(up - bilinear).max() > 0.05
    reference = cv2.resize(r[0, 0].numpy(), (272, 272), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_allclose(up[24:-24, 24:-24], reference[24:-24, 24:-24], atol=1e-4)


def test_grid_crops_match_warp_crops():
    frame = cv2.GaussianBlur(np.random.default_rng(1).integers(0, 255, (90, 120, 3), dtype=np.uint8), (7, 7), 2)
    pad = frame.reshape(-1, 3).mean(axis=0)
    sides = np.array([60.0, 80.0, 150.0])
    warp = warp_crops(frame, 50.3, 40.7, sides, 255, pad).astype(np.float32)
    grid = grid_crops(frame_to_device(frame, torch.device("cpu")), 50.3, 40.7, sides, 255,
                      torch.as_tensor(pad, dtype=torch.float32)).permute(0, 2, 3, 1).numpy()
    assert np.abs(warp - grid).mean() < 1.0


def test_record_flag_exposes_viewer_data_only_when_asked(model):
    frames, gt = moving_target_frames(3)
    t = SiamFCTracker(model, TrackerConfig(), "cpu")
    t.track_frames(frames, gt[0])
    assert t.last_step is None
    t.record = True
    t.update(frames[2])
    assert t.last_step.search_crop.shape == (255, 255, 3) and t.last_step.response.shape == (272, 272)
    assert t.last_step.scale_index in (0, 1, 2)


def test_video_helper(model, tmp_path):
    frames, gt = moving_target_frames(6)
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (128, 96))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    out, times = SiamFCTracker(model, TrackerConfig(), "cpu").track_video(path, gt[0])
    assert out.shape == (6, 4)
    with pytest.raises(FileNotFoundError, match="missing.avi does not exist"):
        SiamFCTracker(model, TrackerConfig(), "cpu").track_video(tmp_path / "missing.avi", gt[0])


def test_baselines_follow_a_textured_target():
    frames, gt = moving_target_frames(15)
    for tracker in make_baselines(["csrt", "KCF"]):
        out, times = tracker.track_frames(frames, gt[0])
        assert out.shape == (15, 4) and np.array_equal(out[0], gt[0])
        assert np.abs(out[-1, :2] - gt[-1, :2]).max() <= 3, tracker.name
    with pytest.raises(UnknownBaselineError, match="mosse"):
        make_baselines(["csrt", "mosse"])


def test_runner_writes_got10k_layout_and_resumes(model, tmp_path):
    from siamfc_lib.evaluation.evaluate import run_evaluation
    from siamfc_lib.training.checkpoints import save_checkpoint

    otb = tmp_path / "OTB"
    write_sequence(otb, "SynthA", 6)
    write_sequence(otb, "Jogging", 5, gt_names=("groundtruth_rect.1.txt", "groundtruth_rect.2.txt"))
    train = tmp_path / "train"
    for epoch in (0, 1, 2):
        save_checkpoint(train, epoch, {"model": build_model(width=0.25).state_dict(), "width": 0.25, "head_bias": True})
    params = {"otb_root": str(otb), "checkpoint": str(train), "device": "cpu", "sequences": None,
              "run_dir": str(tmp_path / "eval"), "baselines": ["kcf"], "progress": False}
    outcome = run_evaluation(params, progress=False, log=lambda s: None)
    run = tmp_path / "eval"
    assert sorted(outcome.reports) == ["KCF", "SiamFC", "SiamFC-untrained"]
    for name in ("SynthA", "Jogging.1", "Jogging.2"):
        assert (run / "results" / "SiamFC" / f"{name}.txt").exists()
        assert (run / "times" / f"{name}_time.txt").exists()
        assert (run / "times" / "KCF" / f"{name}_time.txt").exists()
    rows = np.loadtxt(run / "results" / "KCF" / "SynthA.txt", delimiter=",")
    assert rows.shape == (6, 4)
    report = json.loads((run / "report.json").read_text())
    assert report["tracker"] == "SiamFC" and report["sequences"] == 3 and report["frames"] == 16
    stamp = (run / "results" / "SiamFC" / "SynthA.txt").stat().st_mtime_ns
    messages = []
    run_evaluation(params, progress=False, log=messages.append)
    assert (run / "results" / "SiamFC" / "SynthA.txt").stat().st_mtime_ns == stamp
    assert any("SiamFC: tracked 0, reused 3" in m for m in messages)
    with pytest.raises(Exception, match="unknown parameter"):
        run_evaluation({**params, "otb_rot": "x"})

    summary = run_evaluation({**params, "sequences": ["SynthA"], "run_dir": str(tmp_path / "sweep"),
                              "sweep_epochs": [1, 2]}, log=lambda s: None).sweep
    assert summary["last"]["epoch"] == 2 and summary["test_set_selection"] is True
    assert summary["best"]["auc"] == max(e["auc"] for e in summary["epochs"].values())


def test_resume_does_not_reuse_results_of_another_model(tmp_path):
    """Re-evaluating after retraining must track again, not report the old model's boxes."""
    from siamfc_lib.evaluation.results import result_path
    from siamfc_lib.evaluation.engine import run_tracker

    root = tmp_path / "otb"
    write_sequence(root, "Seq1", 5)
    seqs = list(OTBDataset(root))
    torch.manual_seed(0)
    first = SiamFCTracker(build_model(width=0.25), name="SiamFC")
    assert run_tracker(first, seqs, tmp_path / "run") == ["Seq1"]
    assert run_tracker(first, seqs, tmp_path / "run") == []            # same model: resumed
    torch.manual_seed(1)
    retrained = SiamFCTracker(build_model(width=0.25), name="SiamFC")
    assert run_tracker(retrained, seqs, tmp_path / "run") == ["Seq1"]  # other weights: tracked again
    assert result_path(tmp_path / "run", "SiamFC", "Seq1").exists()
