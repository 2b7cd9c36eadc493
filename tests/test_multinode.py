"""Multi-node training on one machine: two launchers as two "nodes" (nnodes=2, one gloo process each).

The launchers run in threads of this process (each starts its own torchrun agent, the node);
killing a node kills its agent and its rank. Pure decisions (fingerprints, resume plan, lr rule)
are tested without processes.
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import torch

from siamfc_lib.config import ConfigError, TrainConfig, preset
from siamfc_lib.data.manifest import MANIFEST_FILE, Manifest
from siamfc_lib.training.consensus import (NodesDisagreeError, collective_failure_message, data_mismatch,
                                           is_collective_failure, resume_plan)
from siamfc_lib.training.fingerprint import data_fingerprint
from siamfc_lib.training.launch import LaunchError, launch
from siamfc_lib.training.run_log import read_metrics
from siamfc_lib.training.schedule import lr_scale, lr_warmup_steps, warmup_factor
from siamfc_lib.training.synthetic_crops import write_synthetic_curation


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- pure decisions, no processes

def _report(rank, node, data=None, last=None):
    return {"rank": rank, "node": node, "host": f"host{node}", "data": data, "last": last,
            "last_path": f"/runs/n{node}/checkpoints/last.pth"}


def _drop_videos(curated: Path, keep: int) -> None:
    """The curation of ``curated`` with only its first ``keep`` videos (crops stay on disk)."""
    manifest = Manifest.load(curated)
    Manifest.from_videos(manifest.videos[:keep], source=manifest.source).save(curated)


def test_data_fingerprint_ignores_where_the_copy_lives_and_names_what_differs(tmp_path):
    a, b = tmp_path / "a" / "cur", tmp_path / "b" / "cur"
    write_synthetic_curation(a, videos=3, frames=3, seed=0, lmdb_path=tmp_path / "a" / "cur.lmdb")
    shutil.copytree(a, b)
    shutil.copytree(tmp_path / "a" / "cur.lmdb", tmp_path / "b" / "cur.lmdb")
    fa, fb = data_fingerprint(a, None), data_fingerprint(b, None)
    assert fa["LMDB"][1]["entries"] == 9
    assert data_mismatch([_report(0, 0, fa), _report(1, 1, fb)]) is None

    _drop_videos(b, keep=2)
    fb = data_fingerprint(b, None)
    message = data_mismatch([_report(0, 0, fa), _report(1, 1, fb), _report(2, 1, None)])
    assert message and "node 1 (host host1, rank 1)" in message and f"manifest at {b}" in message
    assert "manifest.columns" in message and "sha256" in message and "rsync" in message
    assert "LMDB at" not in message, message

    shutil.rmtree(tmp_path / "b" / "cur.lmdb")
    write_synthetic_curation(tmp_path / "c", videos=3, frames=2, seed=0, lmdb_path=tmp_path / "b" / "cur.lmdb")
    message = data_mismatch([_report(0, 0, fa), _report(1, 1, data_fingerprint(b, None))])
    assert "LMDB at " + str(tmp_path / "b" / "cur.lmdb") in message and "entries: 6 (node 0: 9)" in message
    missing = data_fingerprint(tmp_path / "nowhere", "")
    assert "does not exist" in missing["manifest"][1]["error"]


def test_rank_0_decides_the_resume_state_for_every_rank():
    ck = {"path": "/runs/n0/checkpoints/last.pth", "size": 10, "sha256": "aa"}
    other = {**ck, "sha256": "bb"}
    assert resume_plan([_report(0, 0, last=ck), _report(1, 1, last=ck)], True) == (True, [])
    assert resume_plan([_report(0, 0, last=ck), _report(1, 1), _report(2, 2, last=other)], True) == (True, [1, 2])
    assert resume_plan([_report(0, 0), _report(1, 1)], True) == (False, [])
    assert resume_plan([_report(0, 0, last=ck), _report(1, 1)], False) == (False, [])
    with pytest.raises(NodesDisagreeError) as err:
        resume_plan([_report(0, 0), _report(1, 1, last={**ck, "path": "/runs/n1/checkpoints/last.pth"})], True)
    message = str(err.value)
    assert "node 1 (host host1, rank 1) has /runs/n1/checkpoints/last.pth" in message
    assert "copy that file to /runs/n0/checkpoints/last.pth on node 0" in message and "resume=False" in message


def test_lr_scaling_rule_and_warmup():
    cfg = preset("paper", lr_scaling="linear", lr_warmup_epochs=2)
    assert lr_scale(cfg, 8) == 8.0 and lr_scale(cfg, 1) == 1.0
    assert lr_scale(preset("paper", lr_scaling="sqrt"), 8) == pytest.approx(math.sqrt(8))
    assert lr_scale(preset("paper"), 8) == 1.0
    assert lr_warmup_steps(cfg, 8.0, 100) == 200 and lr_warmup_steps(cfg, 1.0, 100) == 0
    ramp = [warmup_factor(8.0, s, 200) for s in range(-1, 201)]
    assert ramp[0] == pytest.approx(1 / 8) and ramp[-2] == 1.0 and ramp[-1] == 1.0
    assert all(a < b for a, b in zip(ramp[:-2], ramp[1:-1]))
    with pytest.raises(ConfigError, match="lr_scaling"):
        preset("paper", lr_scaling="cubic")


def test_collective_failures_are_explained():
    assert is_collective_failure(RuntimeError("[gloo/transport/tcp/pair.cc:534] Connection closed by peer"))
    assert not is_collective_failure(ValueError("bad value")) and not is_collective_failure(NodesDisagreeError("x"))
    message = collective_failure_message(RuntimeError("Timed out waiting 60000ms for recv"), 3, 60, "/r")
    assert "rank 3" in message and "collective_timeout_s=60" in message
    for cause in ("node or rank died", "data differ", "resumed from different states", "raise collective_timeout_s"):
        assert cause in message


# ---------------------------------------------------------------- two nodes, two launchers

def _cfg(tmp_path: Path, run: str, data: str = "curated", **overrides) -> TrainConfig:
    path = tmp_path / data
    if not (path / MANIFEST_FILE).exists():
        write_synthetic_curation(path, videos=4, frames=6, seed=0)
    base = dict(data_path=str(path), lmdb_path="", device="cpu", width=0.25, epochs=2, batch_size=2,
                pairs_per_epoch=16, val_pairs=4, workers=0, run_dir=str(tmp_path / run), log_every=1,
                warmup_steps=1, collective_timeout_s=30.0, lr_schedule="step")  # lr independent of epochs
    return TrainConfig(**{**base, **overrides})


def _two_nodes(cfgs: list[TrainConfig], during=None) -> list[tuple[object, float]]:
    """Launch node 0 and node 1 at once; ``(summary or exception, time.time() at its end)`` per node."""
    port, out = _free_port(), [None, None]

    def node(k):
        try:
            out[k] = launch(cfgs[k], npus=1, nnodes=2, node_rank=k, master_port=port, echo=lambda _: None,
                            env={"OMP_NUM_THREADS": "1"}, timeout_s=240)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            out[k] = exc
        out[k] = (out[k], time.time())

    threads = [threading.Thread(target=node, args=(k,), daemon=True) for k in (0, 1)]
    for t in threads:
        t.start()
    if during is not None:
        during()
    for t in threads:
        t.join(timeout=300)
    return out


def _node_pids(config_path: Path) -> list[int]:
    """The torchrun agent and the rank of the node started with ``config_path``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(config_path).encode() in cmdline:
                pids.append(int(entry.name))
    return pids


def _in_epoch(run_dir: Path, epoch: int) -> bool:
    """Rank 0 has logged a step of ``epoch`` (a row being written may be cut short)."""
    try:
        return any(r["kind"] == "step" and int(r["epoch"]) >= epoch for r in read_metrics(run_dir / "metrics.csv"))
    except (OSError, ValueError, TypeError):
        return False


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=False)["model"]


@pytest.mark.distributed
@pytest.mark.slow
def test_two_nodes_sharing_a_run_dir_with_different_manifests_stop_before_training(tmp_path):
    other = tmp_path / "other"
    write_synthetic_curation(other, videos=4, frames=6, seed=0)
    _drop_videos(other, keep=3)                            # node 1 lost a video
    cfgs = [_cfg(tmp_path, "shared"), _cfg(tmp_path, "shared", data="other")]
    start = time.time()
    (r0, t0), (r1, t1) = _two_nodes(cfgs)
    print(f"\nmismatched manifest: node 0 stopped after {t0 - start:.1f}s, node 1 after {t1 - start:.1f}s:\n{r0}")
    for result in (r0, r1):
        assert isinstance(result, LaunchError), result
        message = str(result)
        assert "node 1 (host" in message and f"manifest at {other}" in message and MANIFEST_FILE in message, message
    assert not (tmp_path / "shared" / "checkpoints").exists(), "training started"
    logs = tmp_path / "shared" / "logs"    # one folder per node, neither launcher deleted the other's
    for node in (0, 1):
        text = (logs / f"node_{node}" / f"rank_{node}.log").read_text()
        assert text.startswith(f"# global rank {node} (node {node}, local rank 0 of 1)"), text[:200]
        assert "NodesDisagreeError" in text
        assert (logs / f"node_{node}" / "torchrun").is_dir()
    assert not list(logs.glob("rank_*.log"))


def _killer(watched_run: Path, epoch: int, launch_config: Path, killed_at: list[float]):
    """A function that SIGKILLs the node of ``launch_config`` (agent and ranks) once ``watched_run``
    is in ``epoch``, and records when."""
    def kill():
        deadline = time.time() + 180
        while time.time() < deadline:
            if _in_epoch(watched_run, epoch):
                for pid in _node_pids(launch_config):
                    os.kill(pid, signal.SIGKILL)
                killed_at.append(time.time())
                return
            time.sleep(0.1)
    return kill


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.faults
def test_killed_node_stops_the_job_and_the_node_without_checkpoints_resumes_exactly(tmp_path):
    # 1. a run_dir per node (only rank 0 writes checkpoints, so node 1 has none); node 1 (its agent
    #    and its rank) is killed in the middle of epoch 3. The lr is scaled linearly (x2) with a
    #    14-step warm-up, so the resume below lands inside the warm-up.
    scaled = dict(lr_scaling="linear", lr_warmup_epochs=3.5, keep_checkpoints=0)   # e1 is copied below
    cfgs = [_cfg(tmp_path, "run0", epochs=50, **scaled), _cfg(tmp_path, "run1", epochs=50, **scaled)]
    killed_at: list[float] = []
    kill_node_1 = _killer(tmp_path / "run0", 3, tmp_path / "run1" / "launch_config_node1.json", killed_at)
    (r0, t0), (r1, _) = _two_nodes(cfgs, during=kill_node_1)
    assert killed_at, "node 1 was never killed"
    assert isinstance(r0, LaunchError) and isinstance(r1, LaunchError), (r0, r1)
    node0_stop = t0 - killed_at[0]
    print(f"\nkilled node 1: node 0's launcher failed {node0_stop:.1f}s after the kill:\n{r0}")
    assert "likely causes" in str(r0) and "node or rank died" in str(r0), str(r0)
    # the bound a user gets: the rank's own wait (collective_timeout_s) plus the launcher's grace
    assert node0_stop < cfgs[0].collective_timeout_s + 60, "node 0 did not stop within the collective timeout"
    run0 = tmp_path / "run0" / "checkpoints"
    assert not (tmp_path / "run1" / "checkpoints" / "last.pth").exists()
    uninterrupted = _weights(run0 / "siamfc_e2.pth")

    # 2. resume both nodes from epoch 1 (rank 0's last.pth := its e1): node 1 has no checkpoint and
    #    gets rank 0's; epoch 2 must come out bit for bit as in the uninterrupted run
    shutil.copyfile(run0 / "siamfc_e1.pth", run0 / "last.pth")
    cfgs = [_cfg(tmp_path, run, epochs=2, resume=True, **scaled) for run in ("run0", "run1")]
    start = time.time()
    (s0, t0), (s1, t1) = _two_nodes(cfgs)
    print(f"resume without node 1's checkpoint: node 0 {t0 - start:.1f}s, node 1 {t1 - start:.1f}s")
    assert isinstance(s0, dict) and s0["resumed_from_epoch"] == 1, s0
    assert s1 == {}, s1          # rank 0 alone writes the summary, into node 0's run_dir
    rank1_log = (tmp_path / "run1" / "train_rank1.log").read_text()
    assert "has no" in rank1_log and "resuming from rank 0's copy" in rank1_log, rank1_log
    assert "(epoch 1 of 2)" in rank1_log, rank1_log
    resumed = _weights(run0 / "siamfc_e2.pth")
    for name, value in uninterrupted.items():
        assert torch.equal(resumed[name], value), name

    text = (tmp_path / "run0" / "train.log").read_text()
    assert "lr_scaling linear: lr 0.01 x 2 = 0.02 at global batch 4 (2 rank(s)), 4 steps per epoch, " \
           "warm-up from 0.01 over 14 steps" in text
    steps = [r for r in read_metrics(tmp_path / "run0") if r["kind"] == "step"]
    assert [int(r["step"]) for r in steps] == list(range(1, 9))
    assert [float(r["lr"]) for r in steps] == pytest.approx([0.02 * (1 + s / 14) / 2 for s in range(1, 9)], rel=1e-4)


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.faults
def test_a_stalled_node_stops_the_job_after_the_collective_timeout(tmp_path):
    """A node that hangs (SIGSTOP: its connections stay open) costs collective_timeout_s, not forever."""
    cfgs = [_cfg(tmp_path, run, epochs=50, collective_timeout_s=15.0) for run in ("run0", "run1")]
    stopped_at: list[float] = []
    pids: list[int] = []

    def stall_node_1():
        deadline = time.time() + 180
        while time.time() < deadline:
            if _in_epoch(tmp_path / "run0", 2):
                pids.extend(_node_pids(tmp_path / "run1" / "launch_config_node1.json"))
                for pid in pids:
                    os.kill(pid, signal.SIGSTOP)
                stopped_at.append(time.time())
                return
            time.sleep(0.1)

    def release_node_1():  # once node 0 has failed, the stalled node is killed (as an operator would)
        while not (tmp_path / "run0" / "logs" / "node_0" / "rank_0.log").exists() and time.time() - stopped_at[0] < 120:
            time.sleep(0.2)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)

    def during():
        stall_node_1()
        if stopped_at:
            threading.Thread(target=release_node_1, daemon=True).start()

    (r0, t0), (r1, _) = _two_nodes(cfgs, during=during)
    assert stopped_at, "node 1 was never stopped"
    stop_s = t0 - stopped_at[0]
    print(f"\nstalled node 1: node 0's launcher failed {stop_s:.1f}s after the stall:\n{r0}")
    assert isinstance(r0, LaunchError) and isinstance(r1, LaunchError), (r0, r1)
    assert "collective_timeout_s=15" in str(r0) and "likely causes" in str(r0), str(r0)
    assert 15 <= stop_s < 15 + 60, stop_s


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.faults
def test_when_node_0_dies_the_other_node_stops_within_the_collective_timeout_and_a_minute(tmp_path):
    """Node 0 hosts the rendezvous: a surviving node must not wait for it much longer than a collective."""
    cfgs = [_cfg(tmp_path, run, epochs=50) for run in ("run0", "run1")]
    killed_at: list[float] = []
    kill_node_0 = _killer(tmp_path / "run0", 2, tmp_path / "run0" / "launch_config.json", killed_at)
    (r0, _), (r1, t1) = _two_nodes(cfgs, during=kill_node_0)
    assert killed_at, "node 0 was never killed"
    node1_stop = t1 - killed_at[0]
    print(f"\nkilled node 0: node 1's launcher failed {node1_stop:.1f}s after the kill:\n{r1}")
    assert isinstance(r1, LaunchError), r1
    assert node1_stop < cfgs[1].collective_timeout_s + 60, node1_stop
