"""05 evaluates every network in one pass, never tracks a network twice, runs baselines in parallel."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from otb_fixtures import write_sequence
from siamfc_lib.data.otb import OTBDataset
from siamfc_lib.model import build_model
from siamfc_lib.training.checkpoints import save_checkpoint


@pytest.fixture()
def train_and_otb(tmp_path):
    otb = tmp_path / "OTB"
    write_sequence(otb, "SynthA", 6, seed=0)
    write_sequence(otb, "SynthB", 5, seed=1)
    train = tmp_path / "train"
    for epoch in (0, 1, 2):
        torch.manual_seed(epoch)
        save_checkpoint(train, epoch, {"model": build_model(width=0.25).state_dict(), "width": 0.25,
                                       "head_bias": True})
    return train, otb


@pytest.fixture()
def tracked_networks(monkeypatch):
    """Every (sequence, network name) the batched engine is asked to track."""
    from siamfc_lib.tracking import batched

    calls: list[tuple[int, str]] = []
    original = batched.MultiSiamFC.track

    def spy(self, jobs, *args, **kwargs):
        calls.extend((i, name) for i, job in enumerate(jobs) for name in job[2])
        return original(self, jobs, *args, **kwargs)

    monkeypatch.setattr(batched.MultiSiamFC, "track", spy)
    return calls


def test_identical_checkpoints_are_not_tracked_again(train_and_otb, tmp_path, tracked_networks):
    from siamfc_lib.evaluation.evaluate import run_evaluation

    train, otb = train_and_otb
    run = tmp_path / "eval"
    params = {"otb_root": str(otb), "checkpoint": str(train), "device": "cpu", "run_dir": str(run),
              "sweep_epochs": [1, 2], "decode_workers": 0, "progress": False}
    messages: list[str] = []
    run_evaluation(params, log=messages.append)
    # SiamFC = last.pth = e2 and SiamFC-untrained = e0: three distinct networks, two sequences each
    assert sorted(name for _, name in tracked_networks) == sorted(["SiamFC", "SiamFC-untrained", "SiamFC_e1"] * 2)
    assert any("SiamFC_e2: tracked 0, reused 0, copied 2 from an identical network" in m for m in messages)
    assert any("SiamFC: tracked 2, reused 0" in m for m in messages)
    a = np.loadtxt(run / "results" / "SiamFC" / "SynthA.txt", delimiter=",")
    b = np.loadtxt(run / "sweep" / "results" / "SiamFC_e2" / "SynthA.txt", delimiter=",")
    assert np.array_equal(a, b)

    tracked_networks.clear()
    summary = run_evaluation({**params, "sweep_epochs": "all"}, log=messages.append).sweep
    assert tracked_networks == []          # e1, e2 done above; e0 copied from SiamFC-untrained
    assert any("SiamFC_e0: tracked 0, reused 0, copied 2 from an identical network" in m for m in messages)
    assert sorted(summary["epochs"]) == [0, 1, 2]
    assert summary["epochs"][0]["auc"] == pytest.approx(
        json.loads((run / "reports.json").read_text())["SiamFC-untrained"]["auc"])
    assert summary["epochs"][2]["same_network_as"] == [] and summary["last"]["epoch"] == 2
    assert summary["test_set_selection"] is True
    table = (run / "sweep" / "sweep.md").read_text()
    assert "last" in table and "best (test-set selection)" in table and table.count("\n| ") == 3
    assert json.loads((run / "sweep" / "sweep.json").read_text())["last"] == summary["last"]
    datasets = {r["dataset"] for f in (run / "reports.json", run / "sweep" / "reports.json")
                for r in json.loads(f.read_text()).values()}
    assert len(datasets) == 1, f"the sweep's reports name another data set: {datasets}"


def test_byte_identical_epochs_are_tracked_once(train_and_otb, tmp_path, tracked_networks):
    from siamfc_lib.evaluation.evaluate import run_evaluation

    train, otb = train_and_otb
    (train / "checkpoints" / "siamfc_e3.pth").write_bytes((train / "checkpoints" / "siamfc_e2.pth").read_bytes())
    params = {"otb_root": str(otb), "checkpoint": str(train / "checkpoints" / "siamfc_e1.pth"), "device": "cpu",
              "run_dir": str(tmp_path / "eval"), "sweep_epochs": [2, 3], "compare_untrained": False,
              "decode_workers": 0}
    summary = run_evaluation(params, log=lambda s: None).sweep
    assert sorted(name for _, name in tracked_networks) == sorted(["SiamFC", "SiamFC_e2"] * 2)
    assert summary["epochs"][3]["same_network_as"] == [2]
    assert summary["epochs"][3]["checkpoint_sha256"] == summary["epochs"][2]["checkpoint_sha256"]
    assert summary["epochs"][3]["auc"] == summary["epochs"][2]["auc"]
    with pytest.raises(ValueError, match="'all'"):
        run_evaluation({**params, "sweep_epochs": "most"}, log=lambda s: None)


def test_baselines_in_parallel_processes_equal_sequential(tmp_path):
    from siamfc_lib.evaluation.baseline_pool import run_baselines
    from siamfc_lib.evaluation.engine import run_tracker
    from siamfc_lib.tracking.baselines import make_baseline

    otb = tmp_path / "OTB"
    for i, name in enumerate(("SynthA", "SynthB", "SynthC")):
        write_sequence(otb, name, 5 + i, seed=i)
    sequences = list(OTBDataset(otb))
    done = run_baselines(["kcf"], sequences, tmp_path / "par", workers=2, log=lambda s: None)
    assert sorted(done["KCF"]) == ["SynthA", "SynthB", "SynthC"]
    run_tracker(make_baseline("kcf"), sequences, tmp_path / "seq", progress=False)
    for seq in sequences:
        par = np.loadtxt(tmp_path / "par" / "results" / "KCF" / f"{seq.name}.txt", delimiter=",")
        seq_ = np.loadtxt(tmp_path / "seq" / "results" / "KCF" / f"{seq.name}.txt", delimiter=",")
        assert np.array_equal(par, seq_)
        assert len(np.loadtxt(tmp_path / "par" / "times" / "KCF" / f"{seq.name}_time.txt")) == len(seq)
    assert (tmp_path / "par" / "results" / "KCF" / ".tracker").read_text() == \
        (tmp_path / "seq" / "results" / "KCF" / ".tracker").read_text()
    assert run_baselines(["kcf"], sequences, tmp_path / "par", workers=2, log=lambda s: None) == {"KCF": []}
