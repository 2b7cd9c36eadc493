"""The device-side step (crops in one grid_sample, peak found on the device) run on the CPU
must mean exactly what the host path means."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from otb_fixtures import moving_target_frames
from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.model import build_model
from siamfc_lib.tracking.response import (apply_window, hann_window, locate_peaks, penalise_scales,
                                          scale_penalties, upsample_bicubic)
from siamfc_lib.tracking.search_crops import frame_to_device, grid_crops, pyramid_theta, sample_pyramid
from siamfc_lib.tracking.tracker import SiamFCTracker


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(width=0.25).eval()


def _host_peak(raw: torch.Tensor, cfg: TrackerConfig) -> tuple[int, int, int]:
    """The tracker's NumPy steps, verbatim."""
    up = upsample_bicubic(raw, cfg.response_up).numpy()
    best = int(np.argmax(penalise_scales(up.reshape(len(up), -1).max(axis=1), cfg.scale_penalty)))
    response = apply_window(up[best], hann_window(up.shape[-1]), cfg.window_influence)
    row, col = np.unravel_index(int(np.argmax(response)), response.shape)
    return best, int(row), int(col)


def test_locate_peaks_matches_host_processing():
    cfg = TrackerConfig()
    rng = np.random.default_rng(0)
    raw = torch.from_numpy(rng.normal(size=(4, 3, 1, 17, 17)).astype(np.float32))
    raw[1, 0] += 0.5        # a sequence whose best scale is a non-centre one
    window = torch.from_numpy(hann_window(272))
    got = locate_peaks(raw, window, scale_penalties(3, cfg.scale_penalty), cfg.response_up, cfg.window_influence)
    assert got.dtype == torch.int64 and got.shape == (4, 3)
    assert [tuple(r) for r in got.tolist()] == [_host_peak(raw[b], cfg) for b in range(4)]


def test_one_sampling_call_for_all_scales_and_frames_of_any_size():
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (70, 90, 3), dtype=np.uint8), rng.integers(0, 255, (50, 110, 3), dtype=np.uint8)]
    pads = np.stack([f.reshape(-1, 3).mean(axis=0) for f in frames])
    centres = np.array([[40.3, 30.7], [80.1, 10.2]])
    sides = np.array([[30.0, 50.0, 140.0], [20.0, 60.0, 90.0]])
    canvas = np.zeros((2, 70, 110, 3), dtype=np.uint8)
    for i, f in enumerate(frames):
        canvas[i, :f.shape[0], :f.shape[1]] = f
    theta = torch.from_numpy(pyramid_theta(centres, sides, (70, 110), 63))
    out = sample_pyramid(torch.from_numpy(canvas), theta, torch.from_numpy(pads.astype(np.float32)), 63,
                         torch.tensor([[70, 90], [50, 110]]))
    assert out.shape == (6, 3, 63, 63) and out.is_contiguous(memory_format=torch.channels_last)
    for i, f in enumerate(frames):
        ref = grid_crops(frame_to_device(f, torch.device("cpu")), *centres[i], sides[i], 63,
                         torch.as_tensor(pads[i], dtype=torch.float32))
        np.testing.assert_allclose(out[3 * i:3 * i + 3].numpy(), ref.numpy(), atol=0.05)


def test_device_path_on_cpu_equals_host_path(model):
    frames, gt = moving_target_frames(12, seed=2)
    device_path = SiamFCTracker(model, TrackerConfig(), "cpu", crop_backend="grid", cuda_graphs=True)
    host_path = SiamFCTracker(model, TrackerConfig(), "cpu", crop_backend="grid", record=True)
    a, _ = device_path.track_frames(frames, gt[0])
    b, _ = host_path.track_frames(frames, gt[0])
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert device_path.device_step.cuda_graphs is False      # CUDA graphs only on CUDA
    assert np.abs(a[-1, :2] - gt[-1, :2]).max() < 4           # it does track


def test_autocast_option_runs_and_keeps_the_head_fp32(model):
    frames, gt = moving_target_frames(4)
    t = SiamFCTracker(model, TrackerConfig(), "cpu", crop_backend="grid", amp="bf16")
    out, _ = t.track_frames(frames, gt[0])
    assert out.shape == (4, 4) and np.isfinite(out).all() and t.kernel.dtype == torch.float32
    with pytest.raises(ValueError, match="amp"):
        SiamFCTracker(model, TrackerConfig(), "cpu", amp="int4")


def test_sequence_step_uploads_to_any_accelerator_not_only_cuda():
    """An NPU (here the meta device stands in) must get the frame and theta on the device."""
    from types import SimpleNamespace

    from siamfc_lib.devices import capabilities
    from siamfc_lib.tracking.device_step import SequenceStep

    seen = {}

    def fake_step(frame, theta, pad, kernel, with_scores=False):
        seen.update(frame=frame.device, theta=theta.device, with_scores=with_scores)
        return torch.tensor([[1.0, 2.0, 3.0, 4.5, 6.25]])

    seq = SequenceStep(SimpleNamespace(device=torch.device("meta"), caps=capabilities("npu")), cuda_graphs=True)
    seq.step = fake_step
    seq.pad, seq.kernel = torch.zeros(1, 3, device="meta"), torch.zeros(1, 4, 6, 6, device="meta")
    assert seq.locate(np.zeros((24, 32, 3), np.uint8), np.zeros((3, 2, 3), np.float32)) == (1, 2, 3, 4.5, 6.25)
    assert seen == {"frame": torch.device("meta"), "theta": torch.device("meta"), "with_scores": True}
    assert not seq.cuda_graphs  # graphs are CUDA-only
