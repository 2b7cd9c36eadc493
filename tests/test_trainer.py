"""Trainer: exact resume, logs, the non-finite guard, checkpoint errors, the CLI."""
import json
import math

import pytest
import torch
import yaml
from train_fixtures import tiny_curation, tiny_train_cfg

from siamfc_lib.config import preset
from siamfc_lib.model import build_model
from siamfc_lib.training import trainer
from siamfc_lib.training.checkpoints import (CheckpointError, load_checkpoint, load_model_from_checkpoint,
                                             load_model_state)
from siamfc_lib.training.run import main as run_main
from siamfc_lib.training.schedule import lr_factor


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_curation(tmp_path_factory.mktemp("data"))


def _cfg(data, run_dir, **kw):
    defaults = dict(device="cpu", pairs_per_epoch=8, val_pairs=4, epochs=2, log_every=2)
    return tiny_train_cfg(data, run_dir, "paper", **{**defaults, **kw})


def _all_tensors(ckpt):
    out = {f"model.{k}": v for k, v in ckpt["model"].items()}
    for pid, st in ckpt["optimizer"]["state"].items():
        out.update({f"opt.{pid}.{k}": v for k, v in st.items() if torch.is_tensor(v)})
    return out


def test_resume_after_a_crash_ends_with_identical_weights(data, tmp_path, monkeypatch):
    straight = trainer.train(_cfg(data, tmp_path / "a"), echo=False)
    assert straight["epochs_this_session"] == 2

    real_save = trainer.save_checkpoint

    def save_then_die(run_dir, epoch, state):
        path = real_save(run_dir, epoch, state)
        if epoch == 1:
            raise KeyboardInterrupt("killed after epoch 1")
        return path

    monkeypatch.setattr(trainer, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(_cfg(data, tmp_path / "b"), echo=False)
    monkeypatch.setattr(trainer, "save_checkpoint", real_save)
    assert not (tmp_path / "b/checkpoints/siamfc_e2.pth").exists()
    resumed = trainer.train(_cfg(data, tmp_path / "b", resume=True), echo=False)
    assert resumed["resumed_from_epoch"] == 1 and resumed["epochs_this_session"] == 1

    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    ta, tb = _all_tensors(a), _all_tensors(b)
    assert ta.keys() == tb.keys() and len(ta) > 20
    assert all(torch.equal(ta[k], tb[k]) for k in ta), [k for k in ta if not torch.equal(ta[k], tb[k])]
    assert a["scheduler"] == b["scheduler"] and a["epoch"] == b["epoch"] == 2
    assert straight["final_val_loss"] == resumed["final_val_loss"]
    # and training did move the weights away from the initial e0 state
    e0 = torch.load(tmp_path / "a/checkpoints/siamfc_e0.pth", weights_only=False)
    assert not torch.equal(e0["model"]["backbone.features.0.weight"], a["model"]["backbone.features.0.weight"])
    # the resumed metrics.csv holds each epoch exactly once
    rows = (tmp_path / "b/metrics.csv").read_text().splitlines()
    assert [r.split(",")[1] for r in rows if r.startswith("epoch")] == ["1", "2"]


def test_run_writes_logs_metrics_summary_and_loadable_checkpoints(data, tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    params = {k: v for k, v in vars(_cfg(data, tmp_path / "r", epochs=1)).items() if k not in ("geometry", "npu_options")}
    cfg_file.write_text(yaml.safe_dump({**params, "preset": "paper", "progress": False}))
    summary = run_main(["--config", str(cfg_file)])
    run = tmp_path / "r"
    assert json.loads((run / "summary.json").read_text())["final_loss"] == pytest.approx(summary["final_loss"])
    assert math.isfinite(summary["final_loss"]) and math.isfinite(summary["final_val_loss"])
    log = (run / "train.log").read_text()
    assert "FPS: " in log and "Loss: " in log
    header, *rows = (run / "metrics.csv").read_text().splitlines()
    assert header == "kind,epoch,step,loss,val_loss,lr,pairs_per_s,seconds,overflow_skipped"
    assert rows[-1].startswith("epoch,1,4,")
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"siamfc_e0.pth", "siamfc_e1.pth", "last.pth"}
    model = load_model_from_checkpoint(run, "cpu")
    assert not model.training and model.width == 0.125


def test_non_finite_loss_stops_with_a_message_and_leaves_a_checkpoint(data, tmp_path, monkeypatch):
    real_loss, calls = trainer.balanced_logistic_loss, []

    def poisoned(logits, *args):
        calls.append(1)
        loss = real_loss(logits, *args)
        return loss * float("nan") if len(calls) >= 3 else loss

    monkeypatch.setattr(trainer, "balanced_logistic_loss", poisoned)
    with pytest.raises(trainer.NonFiniteLossError, match=r"loss is nan at epoch 1.*siamfc_e0\.pth"):
        trainer.train(_cfg(data, tmp_path / "n"), echo=False)
    ckpt = load_checkpoint(tmp_path / "n")
    assert ckpt["epoch"] == 0 and all(torch.isfinite(v).all() for v in ckpt["model"].values())


def test_truncated_and_foreign_checkpoints_raise_naming_the_file(tmp_path):
    model = build_model(0.125)
    good = tmp_path / "good.pth"
    torch.save({"format": "siamfc-checkpoint/1", "model": model.state_dict(), "width": 0.125}, good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(CheckpointError, match="truncated.pth"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pth"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pth.*not a SiamFC"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="good.pth.*does not fit"):
        load_model_state(build_model(0.25), load_checkpoint(good))
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model_from_checkpoint(tmp_path / "nowhere.pth")


def test_lr_schedules():
    paper = preset("paper")
    assert lr_factor(paper, 0) == 1.0
    assert paper.lr * lr_factor(paper, 49) == pytest.approx(1e-5)
    assert paper.lr * lr_factor(paper, 1) == pytest.approx(1e-2 * 10 ** (-3 / 49))
    ascend = preset("ascend")
    assert [ascend.lr * lr_factor(ascend, e) for e in (0, 17, 18, 36)] == pytest.approx([0.06, 0.06, 0.006, 0.0006])
