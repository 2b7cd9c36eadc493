"""What only a card would show, on the strict stand-in: checkpoints that open anywhere, the card a
process opens, uploads, float64, overflow counting under a static loss scale, the precision as it
runs, no silent CPU run, CPU-fallback warnings, torch/torch_npu pairs, and npu_options."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import npu_standin
from otb_fixtures import moving_target_frames, write_sequence
from train_fixtures import tiny_curation, tiny_train_cfg

from siamfc_lib import devices
from siamfc_lib.config.tracking import TrackerConfig
from siamfc_lib.devices import DeviceError
from siamfc_lib.model import build_model
from siamfc_lib.training import trainer
from siamfc_lib.training.checkpoints import FORMAT, load_checkpoint
from siamfc_lib.training.preflight import PreflightError, check_launch
from siamfc_lib.training.run_log import read_metrics
from siamfc_lib.tracking.tracker import SiamFCTracker
from siamfc_lib.visualisation.response_viewer import record_sequence

pytestmark = pytest.mark.usefixtures("fresh_npu_cache")
ROOT = Path(__file__).resolve().parents[1]
NO_NPU = "import sys; sys.modules['torch_npu'] = None\n"   # a process where torch_npu cannot be imported


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_curation(tmp_path_factory.mktemp("data"))


def _cfg(data, run_dir, **kw):
    defaults = dict(device="npu", pairs_per_epoch=4, val_pairs=2, epochs=1, log_every=1)
    return tiny_train_cfg(data, run_dir, "ascend", **{**defaults, **kw})


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TORCH_DEVICE_BACKEND_AUTOLOAD": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", NO_NPU + code, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_a_checkpoint_trained_on_the_npu_evaluates_where_torch_npu_is_missing(data, tmp_path, monkeypatch):
    npu = npu_standin.install(monkeypatch)
    trainer.train(_cfg(data, tmp_path / "run"), echo=False)
    assert npu.violations == []
    write_sequence(tmp_path / "OTB", "SynthA", 5)
    done = _python("from siamfc_lib.evaluation.evaluate import run_evaluation\n"
                   "import torch\n"
                   "ckpt = torch.load(sys.argv[1] + '/checkpoints/last.pth', weights_only=True)\n"
                   "out = run_evaluation({'otb_root': sys.argv[2], 'checkpoint': sys.argv[1], 'device': 'cpu',\n"
                   "                      'run_dir': sys.argv[3], 'decode_workers': 0}, log=lambda s: None)\n"
                   "print('AUC', out.reports['SiamFC']['auc'])",
                   str(tmp_path / "run"), str(tmp_path / "OTB"), str(tmp_path / "eval"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("AUC ")


def _old_npu_checkpoint(path: Path) -> Path:
    """A file as earlier versions wrote it on an NPU: the state as it sat on the card."""
    model = build_model(width=0.125).to(devices.Device("npu", 0).torch)
    torch.save({"format": FORMAT, "epoch": 1, "model": model.state_dict(), "width": 0.125, "head_bias": True}, path)
    return path


def test_an_old_npu_checkpoint_opens_where_torch_npu_loads_and_names_the_fix_elsewhere(tmp_path, monkeypatch):
    npu_standin.install(monkeypatch)
    old = _old_npu_checkpoint(tmp_path / "old.pth")
    assert "torch_npu.utils.storage._rebuild_npu_tensor" in torch.serialization.get_unsafe_globals_in_checkpoint(old)
    assert load_checkpoint(old)["model"]["head.bias"].shape == (1,)     # torch_npu imported first
    done = _python("from siamfc_lib.training.checkpoints import load_checkpoint\nload_checkpoint(sys.argv[1])",
                   str(old))
    assert done.returncode != 0
    assert "saved on an NPU by an earlier version of this project" in done.stderr
    assert "python -m siamfc_lib.training.checkpoints portable" in done.stderr
    from siamfc_lib.training.checkpoints import main as checkpoints_cli
    assert checkpoints_cli(["portable", str(old), str(tmp_path / "new.pth")]) == 0
    done = _python("from siamfc_lib.training.checkpoints import load_model_from_checkpoint\n"
                   "load_model_from_checkpoint(sys.argv[1])", str(tmp_path / "new.pth"))
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_launch_asks_no_chip_in_the_notebook_kernel(data, tmp_path, monkeypatch):
    """A device query before set_device opens card 0 for the kernel's whole life."""
    npu = npu_standin.install(monkeypatch, bf16=False)
    check_launch(_cfg(data, tmp_path / "run", amp="bf16"), npus=2)    # bf16 is each rank's to refuse
    assert npu.lazy_inits == [] and ("set_device", 0) not in npu.calls


def test_one_process_trains_on_the_card_of_ascend_device_id(data, tmp_path, monkeypatch):
    npu = npu_standin.install(monkeypatch)
    monkeypatch.setenv("ASCEND_DEVICE_ID", "3")
    summary = trainer.train(_cfg(data, tmp_path / "run"), echo=False)
    assert summary["device"] == "npu:3"
    assert npu.calls[0] == ("set_device", 3) and npu.lazy_inits == []
    with pytest.raises(DeviceError, match="amp: bf16 is not supported"):       # refused in the rank, after set_device
        trainer.train(_cfg(data, tmp_path / "bf16", amp="bf16"), echo=False)


def test_viewer_frames_are_uploaded_blocking_and_nothing_float64_reaches_the_card(tmp_path, monkeypatch):
    frames, gt = moving_target_frames(4, seed=2)
    torch.manual_seed(0)
    model = build_model(width=0.125)
    npu = npu_standin.install(monkeypatch)
    write_sequence(tmp_path, "SynthA", 4, seed=2)
    from siamfc_lib.data.otb import OTBDataset

    tracker = SiamFCTracker(model, TrackerConfig(), "npu:0", record=True)
    data = record_sequence(tracker, OTBDataset(tmp_path)["SynthA"], 4)
    assert npu.violations == [] and len(data) == 3
    boxes, _ = SiamFCTracker(model, TrackerConfig(), "npu:0").track_frames(frames, gt[0])
    assert npu.violations == [] and np.isfinite(boxes).all()


def test_a_static_loss_scale_counts_overflows_and_skips_their_steps(data, tmp_path, monkeypatch):
    """torch_npu's static GradScaler checks nothing: the step checks the gradients itself."""
    npu = npu_standin.install(monkeypatch)
    real_loss, calls = trainer.balanced_logistic_loss, []

    def overflowing(*args):
        calls.append(1)
        loss = real_loss(*args)
        return loss * 1e38 if len(calls) == 2 else loss          # the second step's gradients overflow

    monkeypatch.setattr(trainer, "balanced_logistic_loss", overflowing)
    summary = trainer.train(_cfg(data, tmp_path / "run", loss_scale=128, pairs_per_epoch=8, val_pairs=0), echo=False)
    assert npu.violations == [] and not npu.scalers[0].dynamic
    steps = [r for r in read_metrics(tmp_path / "run") if r["kind"] == "step"]
    assert [int(r["overflow_skipped"]) for r in steps] == [0, 1, 1, 1]
    weights = torch.load(tmp_path / "run" / "checkpoints" / "last.pth", weights_only=True)["model"]
    assert all(torch.isfinite(t).all() for t in weights.values()) and np.isfinite(summary["final_loss"])


@pytest.mark.parametrize("bf16, options, expected", [
    (False, {}, "fp32 with fp16 matrix ops (NPU precision mode allow_fp32_to_fp16)"),
    (False, {"precision_mode": "must_keep_origin_dtype"}, "fp32"),
    (True, {}, "fp32 with HF32 convolutions"),
])
def test_the_precision_is_named_as_it_runs(data, tmp_path, monkeypatch, bf16, options, expected):
    npu = npu_standin.install(monkeypatch, bf16=bf16)
    summary = trainer.train(_cfg(data, tmp_path / "run", amp="none", npu_options=options), echo=False)
    assert summary["precision"] == expected
    if options:
        assert ("set_option", {"ACL_PRECISION_MODE": "must_keep_origin_dtype"}) in npu.calls
    assert f"precision {expected}" in (tmp_path / "run" / "train.log").read_text()


def test_npu_options_reach_the_rank(data, tmp_path, monkeypatch):
    npu = npu_standin.install(monkeypatch)
    for key in ("CPU_AFFINITY_CONF", "HCCL_CONNECT_TIMEOUT", "TASK_QUEUE_ENABLE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TASK_QUEUE_ENABLE", "2")                 # what the user exported wins
    options = {"jit_compile": False, "cpu_affinity": "1", "hccl_connect_timeout_s": 600, "task_queue": 1}
    trainer.train(_cfg(data, tmp_path / "run", npu_options=options), echo=False)
    assert ("set_compile_mode", False) in npu.calls
    assert (os.environ["CPU_AFFINITY_CONF"], os.environ["HCCL_CONNECT_TIMEOUT"]) == ("1", "600")
    assert os.environ["TASK_QUEUE_ENABLE"] == "2"
    with pytest.raises(DeviceError, match="npu_options are for Ascend NPUs"):
        trainer.train(_cfg(data, tmp_path / "cpu", device="cpu", amp="none", npu_options=options), echo=False)


def _broken_torch_npu(tmp_path: Path, monkeypatch) -> None:
    """A torch_npu that is installed but cannot load, as without CANN's set_env.sh."""
    package = tmp_path / "site" / "torch_npu"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "raise ImportError('libhccl.so: cannot open shared object file: No such file or directory')\n")
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "torch_npu", raising=False)


def test_auto_does_not_start_ranks_on_the_cpu_when_torch_npu_fails_to_load(data, tmp_path, monkeypatch):
    _broken_torch_npu(tmp_path, monkeypatch)
    with pytest.raises(PreflightError, match=r"device 'auto' would start 2 processes on cpu.*-p device cpu"):
        check_launch(_cfg(data, tmp_path / "run", device="auto", amp="none"), npus=2)
    check_launch(_cfg(data, tmp_path / "run", device="cpu", amp="none"), npus=2)     # asked for: fine
    check_launch(_cfg(data, tmp_path / "run", device="auto", amp="none"), npus=1)    # one process: warned only


def test_a_torch_that_is_not_torch_npu_s_is_named(tmp_path, monkeypatch):
    from importlib import metadata

    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "2.7.1.post2" if name == "torch-npu" else real(name))
    _broken_torch_npu(tmp_path, monkeypatch)
    monkeypatch.setattr(torch, "__version__", "2.13.0+cpu")
    reason = devices.npu_unavailable_reason()
    assert "torch 2.13.0+cpu is installed beside torch-npu 2.7.1.post2, which is built for torch 2.7.1" in reason
    assert "CANN" not in reason


def test_the_doctor_fails_when_operators_fall_back_to_the_cpu(monkeypatch):
    from siamfc_lib import doctor

    npu = npu_standin.install(monkeypatch, fallback_ops=("aten::grid_sampler_2d",))
    checks = {c.name: c for c in doctor.run("npu", out=lambda line: None)}
    assert not checks["tracking"].ok and "aten::grid_sampler_2d" in checks["tracking"].detail
    assert "CANN kernels (ops) package" in checks["tracking"].fix
    assert checks["checkpoint"].ok, checks["checkpoint"].detail
    assert npu.violations == []
