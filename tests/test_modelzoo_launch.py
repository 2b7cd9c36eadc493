"""ModelZoo-style launch variables, a card shared by two ranks, and fp16 overflow skips that
every rank agrees on."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from siamfc_lib.devices import Device
from siamfc_lib.training.distributed import (LaunchEnvError, TorchDistributedContext, check_distinct_devices,
                                             duplicate_devices, rank_from_env)
from siamfc_lib.training.step import TrainStep


def test_modelzoo_loop_that_does_not_export_rank_id():
    """The seed's 8p script: RANK_SIZE exported, RANK_ID only a loop variable."""
    with pytest.raises(LaunchEnvError, match="RANK_SIZE=8 is set but RANK_ID is not: every process would train "
                                             "as rank 0 of its own run. Export RANK_ID inside the launch loop"):
        rank_from_env({"RANK_SIZE": "8", "ASCEND_DEVICE_ID": "3"})
    assert rank_from_env({"RANK_SIZE": "1"}) == (0, 0, 1)          # one card: nothing to agree on


@pytest.mark.parametrize("env, message", [
    ({"RANK_SIZE": "8", "RANK_ID": "8"}, "world size mismatch: RANK_ID=8 is outside RANK_SIZE=8"),
    ({"RANK": "1", "WORLD_SIZE": "2", "RANK_SIZE": "8"}, "world size mismatch: torchrun says WORLD_SIZE=2 but RANK_SIZE=8"),
    ({"RANK": "2", "WORLD_SIZE": "2"}, "RANK=2 is outside WORLD_SIZE=2"),
    ({"RANK_SIZE": "eight", "RANK_ID": "0"}, "RANK_SIZE='eight' is not an integer"),
])
def test_world_size_mismatches_are_errors(env, message):
    with pytest.raises(LaunchEnvError, match=message):
        rank_from_env(env)


def test_modelzoo_variables_that_agree():
    assert rank_from_env({"RANK_SIZE": "8", "RANK_ID": "5", "ASCEND_DEVICE_ID": "5"}) == (5, 5, 8)
    assert rank_from_env({"RANK_SIZE": "8", "RANK_ID": "5", "DEVICE_ID": "4"}) == (5, 4, 8)
    assert rank_from_env({"RANK_SIZE": "2", "RANK_ID": "1"}) == (1, 1, 2)
    assert rank_from_env({"RANK": "1", "WORLD_SIZE": "2", "RANK_SIZE": "2", "LOCAL_RANK": "1"}) == (1, 1, 2)


def test_duplicate_cards_are_found_per_host():
    assert duplicate_devices([("a", "npu:0"), ("a", "npu:1"), ("b", "npu:0")]) is None
    assert duplicate_devices([("a", "cpu"), ("a", "cpu")]) is None
    msg = duplicate_devices([("a", "npu:0"), ("a", "npu:1"), ("a", "npu:1")])
    assert msg.startswith("ranks 1 and 2 both use npu:1 on a: each rank needs its own card. Give each process "
                          "its own ASCEND_DEVICE_ID")


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, z, x):
        return self.fc(z)


def _rank(rank: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    ctx = TorchDistributedContext(rank=rank, world_size=2, device=Device("cpu"))
    result = {}
    try:
        check_distinct_devices(ctx, Device("npu", 0))        # a shared ASCEND_DEVICE_ID
    except LaunchEnvError as exc:
        result["duplicate"] = str(exc)
    torch.manual_seed(0)
    model = _Tiny()
    net = nn.parallel.DistributedDataParallel(model)
    step = TrainStep(net, torch.optim.SGD(model.parameters(), lr=0.1), Device("cpu"), torch.float16,
                     torch.amp.GradScaler("cpu", init_scale=2.0 ** 10), loss_fn=lambda logits, *a: logits.float().mean())
    z = torch.full((2, 4), 1e6 if rank == 1 else 1.0)      # only rank 1 overflows in fp16
    before = model.fc.weight.detach().clone()
    step(z, z)
    result["skipped_after_overflow"] = float(step.overflow_steps)
    result["weights_unchanged"] = bool(torch.equal(before, model.fc.weight))
    step(torch.ones(2, 4), torch.ones(2, 4))
    result["skipped_after_normal_step"] = float(step.overflow_steps)
    result["weights"] = model.fc.weight.detach().tolist()
    Path(out, f"{rank}.json").write_text(json.dumps(result))
    # Tear down in step: a rank that destroys its group (and exits) while the other still talks to
    # gloo or the file store aborts the other ("terminate called without an active exception").
    del step, net
    dist.barrier()
    dist.destroy_process_group()


@pytest.mark.distributed
def test_two_gloo_ranks_agree_on_skips_and_detect_a_shared_card(tmp_path):
    mp.spawn(_rank, args=(f"file://{tmp_path / 'store'}", str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (json.loads((tmp_path / f"{r}.json").read_text()) for r in (0, 1))
    for r in (r0, r1):
        assert r["duplicate"].startswith("ranks 0 and 1 both use npu:0 on ")
        assert r["skipped_after_overflow"] == 1.0 and r["weights_unchanged"]
        assert r["skipped_after_normal_step"] == 1.0
    assert r0["weights"] == r1["weights"]


def test_the_notebook_params_file_serves_a_modelzoo_loop(tmp_path):
    """``python -m siamfc_lib.training.run --config params/ascend/04_train_8p.yaml`` under RANK_SIZE."""
    from siamfc_lib.config import load_params
    from siamfc_lib.training.run import check_world_size, load_train_config

    path = Path(__file__).resolve().parents[1] / "params" / "ascend" / "04_train_8p.yaml"
    cfg, _ = load_train_config(path)
    assert cfg.batch_size == 32 and cfg.device == "npu" and cfg.amp == "fp16"
    check_world_size(load_params(path), 8)
    with pytest.raises(LaunchEnvError, match=r"world size mismatch: the params file says npus=8 x nnodes=1 = 8 "
                                             r"processes, the launch variables say 4"):
        check_world_size(load_params(path), 4)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def loop_config(tmp_path_factory):
    import yaml
    from train_fixtures import tiny_curation

    root = tmp_path_factory.mktemp("loop")
    data = tiny_curation(root)
    config = root / "params.yaml"
    config.write_text(yaml.safe_dump({"data_path": str(data), "run_dir": str(root / "run"), "device": "cpu",
                                      "amp": "none", "width": 0.125, "batch_size": 2, "epochs": 1,
                                      "pairs_per_epoch": 8, "val_pairs": 0, "workers": 0, "log_every": 1,
                                      "npus": 2, "progress": False}))
    return config, root / "run"


def _loop(config: Path, python: str, tmp_path: Path) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHON": python, "MASTER_PORT": str(_free_port()), "NPU_ENV": str(tmp_path / "none.sh"),
           "PYTHONPATH": str(root)}
    return subprocess.run(["bash", str(root / "scripts" / "train_modelzoo.sh"), str(config), "2"],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.distributed
def test_the_modelzoo_loop_trains_with_one_log_per_rank(loop_config, tmp_path):
    config, run_dir = loop_config
    done = _loop(config, sys.executable, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    logs = sorted(p.name for p in (run_dir / "logs" / "node_0").glob("rank_*.log"))
    assert logs == ["rank_0.log", "rank_1.log"] and (run_dir / "checkpoints" / "last.pth").exists()
    assert "all 2 rank(s) finished" in done.stdout


@pytest.mark.distributed
def test_the_modelzoo_loop_fails_when_a_rank_fails_and_stops_the_others(loop_config, tmp_path):
    """A bare `wait` returns 0 whatever the ranks did; rank 0 would wait for rank 1 until its timeout."""
    config, _ = loop_config
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nif [ "${{RANK_ID:-}}" = "1" ]; then echo "rank 1 dies" >&2; exit 3; fi\n'
                       f'exec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    done = _loop(config, str(wrapper), tmp_path)
    assert done.returncode == 3
    assert "rank 1 failed (exit status 3); stopping the other ranks" in done.stderr and "rank 1 dies" in done.stderr
