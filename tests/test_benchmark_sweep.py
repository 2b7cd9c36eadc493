"""The OTB path's machinery on another benchmark's layout: the epoch sweep, resume, identical networks not
tracked twice, and one-by-one tracking writing what the batched pass writes (GOT-10k val's per-sequence files)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from siamfc_lib.evaluation.evaluate import run_evaluation
from siamfc_lib.model import build_model
from siamfc_lib.training.checkpoints import save_checkpoint


@pytest.fixture(scope="module")
def train_run(tmp_path_factory):
    train = tmp_path_factory.mktemp("train")
    for epoch in (0, 1, 2):
        torch.manual_seed(epoch)
        save_checkpoint(train, epoch, {"model": build_model(width=0.25).state_dict(), "width": 0.25,
                                       "head_bias": True})
    return train


@pytest.mark.slow
def test_got10k_val_sweeps_resumes_and_tracks_one_by_one_alike(train_run, look_alikes, tmp_path):
    params = {"benchmark": "got10k_val", "benchmark_root": str(look_alikes["got10k"]), "checkpoint": str(train_run),
              "device": "cpu", "run_dir": str(tmp_path / "eval"), "decode_workers": 0, "sweep_epochs": [1, 2]}
    messages: list[str] = []
    outcome = run_evaluation(params, log=messages.append)
    sweep = outcome.sweep
    assert sweep["selected_by"] == "ao" and sweep["test_set_selection"] is False
    assert set(sweep["last"]) == {"epoch", "ao", "sr_50", "sr_75"} and sweep["last"]["epoch"] == 2
    assert sweep["epochs"][2]["ao"] == outcome.reports["SiamFC"]["ao"]          # e2 is last.pth: copied, same
    assert any("SiamFC_e2: tracked 0, reused 0, copied 4 from an identical network" in m for m in messages)
    table = (tmp_path / "eval" / "sweep" / "sweep.md").read_text()
    assert "| epoch | AO | SR0.5 | SR0.75 | |" in table and "best (validation)" in table
    seq = outcome.dataset.names[0]
    assert (tmp_path / "eval" / "sweep" / "results" / "SiamFC_e1" / seq / f"{seq}_001.txt").exists()
    messages.clear()
    again = run_evaluation(params, log=messages.append)
    assert any("SiamFC: tracked 0, reused 4" in m for m in messages) and again.reports == outcome.reports
    one_by_one = run_evaluation({**params, "run_dir": str(tmp_path / "single"), "batch_sequences": 1,
                                 "sweep_epochs": None, "compare_untrained": False}, log=lambda line: None)
    for name in outcome.dataset.names:
        batched = np.loadtxt(tmp_path / "eval" / "results" / "SiamFC" / name / f"{name}_001.txt", delimiter=",")
        single = np.loadtxt(tmp_path / "single" / "results" / "SiamFC" / name / f"{name}_001.txt", delimiter=",")
        np.testing.assert_allclose(batched, single, atol=1e-3)
    assert one_by_one.reports["SiamFC"]["ao"] == pytest.approx(outcome.reports["SiamFC"]["ao"], abs=1e-4)
    info = json.loads((tmp_path / "eval" / "eval_info.json").read_text())
    assert info["benchmark"] == "got10k_val" and info["protocol"] == "got10k"
