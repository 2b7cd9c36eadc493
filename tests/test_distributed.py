"""Distributed training on CPU with gloo and 2 processes: equivalence, identical weights, faults."""
from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from siamfc_lib.config import TrainConfig
from siamfc_lib.data.manifest import MANIFEST_FILE
from siamfc_lib.devices import Device
from siamfc_lib.model import build_model
from siamfc_lib.training.distributed import TorchDistributedContext, init_process_group, rank_from_env, shutdown
from siamfc_lib.training.launch import LaunchError, launch
from siamfc_lib.training.run_log import read_metrics
from siamfc_lib.training.step import TrainStep
from siamfc_lib.training.synthetic_crops import write_synthetic_curation

pytestmark = pytest.mark.distributed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 127, 127, generator=g) * 255, torch.rand(n, 3, 239, 239, generator=g) * 255


def _step_for(model: torch.nn.Module) -> TrainStep:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    return TrainStep(model, optimizer, Device("cpu"), None, torch.amp.GradScaler("cpu", enabled=False))


def _rank_worker(rank: int, world: int, port: int, out: str, steps: int, same_data: bool) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    ctx = TorchDistributedContext(rank=rank, world_size=world, local_rank=rank, device=Device("cpu"))
    init_process_group(ctx, Device("cpu"), timeout_s=60)
    try:
        torch.manual_seed(0)
        model = build_model(width=0.25)
        if same_data:
            model.eval()  # BN from fixed statistics: a split batch must equal the whole batch
        step = _step_for(ctx.wrap_model(model))
        for i in range(steps):
            z, x = _batch(4, seed=i) if same_data else _batch(2, seed=100 * rank + i)
            if same_data:
                z, x = z[2 * rank: 2 * rank + 2], x[2 * rank: 2 * rank + 2]
            step(z, x)
        torch.save({k: v.detach().clone() for k, v in model.named_parameters()}, f"{out}/rank{rank}.pt")
    finally:
        shutdown()


def test_rank_environment_of_torchrun_and_modelzoo():
    assert rank_from_env({}) == (0, 0, 1)
    assert rank_from_env({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4"}) == (3, 1, 4)
    assert rank_from_env({"RANK_ID": "5", "RANK_SIZE": "8", "ASCEND_DEVICE_ID": "5"}) == (5, 5, 8)


def test_two_ranks_of_batch_b_equal_one_process_of_batch_2b(tmp_path):
    mp.spawn(_rank_worker, args=(2, _free_port(), str(tmp_path), 1, True), nprocs=2, join=True)
    torch.manual_seed(0)
    single = build_model(width=0.25)
    single.eval()
    _step_for(single)(*_batch(4, seed=0))
    for rank in range(2):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        for name, value in single.named_parameters():
            torch.testing.assert_close(got[name], value.detach(), rtol=1e-5, atol=1e-6, msg=f"rank {rank}: {name}")


def test_all_ranks_hold_identical_weights_after_several_steps(tmp_path):
    mp.spawn(_rank_worker, args=(2, _free_port(), str(tmp_path), 3, False), nprocs=2, join=True)
    a, b = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    torch.manual_seed(0)
    initial = dict(build_model(width=0.25).named_parameters())
    assert any(not torch.equal(a[k], initial[k]) for k in a), "training did not change the weights"
    for name in a:
        assert torch.equal(a[name], b[name]), name


def _tiny_config(tmp_path: Path, **overrides) -> TrainConfig:
    data = tmp_path / "curated"
    if not (data / MANIFEST_FILE).exists():
        write_synthetic_curation(data, videos=4, frames=6, seed=0)
    base = dict(data_path=str(data), lmdb_path="", device="cpu", width=0.25, epochs=2, batch_size=2,
                pairs_per_epoch=16, val_pairs=4, workers=0, run_dir=str(tmp_path / "run"), log_every=1,
                warmup_steps=1)
    return TrainConfig(**{**base, **overrides})


@pytest.mark.slow
def test_torchrun_launch_writes_rank_logs_checkpoints_and_metrics(tmp_path):
    cfg = _tiny_config(tmp_path)
    lines: list[str] = []
    summary = launch(cfg, npus=2, master_port=_free_port(), echo=lines.append, timeout_s=240)
    run = Path(cfg.run_dir)
    assert summary["world_size"] == 2
    assert (run / "checkpoints" / "last.pth").exists() and (run / "checkpoints" / "siamfc_e2.pth").exists()
    assert {r["kind"] for r in read_metrics(run)} >= {"epoch"}
    assert (run / "logs" / "node_0" / "rank_0.log").exists() and (run / "logs" / "node_0" / "rank_1.log").exists()
    assert any("FPS" in line for line in lines), "rank 0's output was not streamed"


def _rank_pids(config_path: Path, rank: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"siamfc_lib.training.run" in cmdline and str(config_path).encode() in cmdline \
                and f"RANK={rank}".encode() in environ:
            pids.append(int(entry.name))
    return pids


@pytest.mark.slow
@pytest.mark.faults
def test_killing_one_rank_ends_the_job_with_its_rank_then_resume_finishes(tmp_path):
    import threading

    cfg = _tiny_config(tmp_path, epochs=40, pairs_per_epoch=32)
    config_path = Path(cfg.run_dir) / "launch_config.json"
    killed: list[int] = []

    def killer():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            metrics = Path(cfg.run_dir) / "metrics.csv"
            if metrics.exists() and any(r["kind"] == "epoch" for r in read_metrics(metrics)):
                for pid in _rank_pids(config_path, 1):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.2)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    start = time.time()
    with pytest.raises(LaunchError) as err:
        launch(cfg, npus=2, master_port=_free_port(), echo=lambda _: None, timeout_s=240)
    thread.join(timeout=5)
    assert killed, "rank 1 was never found to kill"
    assert time.time() - start < 180
    message = str(err.value)
    assert "rank: 1" in message or "failing rank: 1" in message, message
    assert "signal 9" in message, message

    resumed = _tiny_config(tmp_path, epochs=3, pairs_per_epoch=32, resume=True)
    summary = launch(resumed, npus=2, master_port=_free_port(), echo=lambda _: None, timeout_s=240)
    assert summary["resumed_from_epoch"] >= 1
    assert (Path(cfg.run_dir) / "checkpoints" / "siamfc_e3.pth").exists()


def test_a_launcher_whose_torchrun_lingers_after_a_failed_rank_stops_it():
    """torchrun's agent may wait minutes for a dead node's agent; the launcher gives it ``linger_s``."""
    import subprocess
    import sys
    import time
    from collections import deque

    from siamfc_lib.training.launch import stream

    lingering = subprocess.Popen(
        [sys.executable, "-c", "import time; print('[E] failed (exitcode: 1) local_rank: 0 (pid: 1) of binary: x', "
                               "flush=True); time.sleep(300)"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines: list[str] = []
    start = time.monotonic()
    code = stream(lingering, lines.append, deque(maxlen=10), linger_s=1.0)
    assert code != 0 and time.monotonic() - start < 30
    assert any("still waiting 1s after a rank failed" in line for line in lines)
    quiet = subprocess.Popen([sys.executable, "-c", "print('all good')"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert stream(quiet, lines.append, deque(maxlen=10), linger_s=1.0) == 0
