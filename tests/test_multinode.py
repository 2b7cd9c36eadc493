"""Multi-node training on one machine: two launchers as two "nodes" (nnodes=2, one gloo process each).

The launchers run in threads of this process (each starts its own torchrun agent, the node);
killing a node kills its agent and its rank. Pure decisions (fingerprints, resume plan, lr rule)
are tested without processes.
"""
from __future__ import annotations

import json
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


def test_data_fingerprint_ignores_where_the_copy_lives_and_names_what_differs(tmp_path):
    a, b = tmp_path / "a" / "cur", tmp_path / "b" / "cur"
    write_synthetic_curation(a, videos=3, frames=3, seed=0, lmdb_path=tmp_path / "a" / "cur.lmdb")
    shutil.copytree(a, b)
    shutil.copytree(tmp_path / "a" / "cur.lmdb", tmp_path / "b" / "cur.lmdb")
    fa, fb = data_fingerprint(a, None), data_fingerprint(b, None)
    assert fa["LMDB"][1]["entries"] == 9
    assert data_mismatch([_report(0, 0, fa), _report(1, 1, fb)]) is None

    manifest = json.loads((b / "manifest.json").read_text())
    manifest["videos"] = manifest["videos"][:2]
    (b / "manifest.json").write_text(json.dumps(manifest))
    fb = data_fingerprint(b, None)
    message = data_mismatch([_report(0, 0, fa), _report(1, 1, fb), _report(2, 1, None)])
    assert message and "node 1 (host host1, rank 1)" in message and f"manifest at {b}" in message
    assert "manifest.json" in message and "sha256" in message and "rsync" in message
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
    if not (path / "manifest.json").exists():
        write_synthetic_curation(path, videos=4, frames=6, seed=0)
    base = dict(data_path=str(path), lmdb_path="", device="cpu", width=0.25, epochs=2, batch_size=2,
                pairs_per_epoch=16, val_pairs=4, workers=0, run_dir=str(tmp_path / run), log_every=1,
                warmup_steps=1, collective_timeout_s=30.0, lr_schedule="step")  # lr independent of epochs
    return TrainConfig(**{**base, **overrides})


def _two_nodes(cfgs: list[TrainConfig], during=None) -> list[tuple[object, float]]:
    """Launch node 0 and node 1 at once; ``(summary or exception, seconds)`` per node."""
    port, out, start = _free_port(), [None, None], time.time()

    def node(k):
        try:
            out[k] = launch(cfgs[k], npus=1, nnodes=2, node_rank=k, master_port=port, echo=lambda _: None,
                            env={"OMP_NUM_THREADS": "1"}, timeout_s=240)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            out[k] = exc
        out[k] = (out[k], time.time() - start)

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


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=False)["model"]


@pytest.mark.distributed
@pytest.mark.slow
def test_two_nodes_with_different_manifests_stop_before_training(tmp_path):
    other = tmp_path / "other"
    write_synthetic_curation(other, videos=4, frames=6, seed=0)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["videos"] = manifest["videos"][:3]            # node 1 lost a video
    (other / "manifest.json").write_text(json.dumps(manifest))
    cfgs = [_cfg(tmp_path, "run0"), _cfg(tmp_path, "run1", data="other")]
    (r0, t0), (r1, t1) = _two_nodes(cfgs)
    print(f"\nmismatched manifest: node 0 stopped after {t0:.1f}s, node 1 after {t1:.1f}s:\n{r1}")
    for result in (r0, r1):
        assert isinstance(result, LaunchError), result
        message = str(result)
        assert "node 1 (host" in message and f"manifest at {other}" in message and "manifest.json" in message, message
    assert not (tmp_path / "run0" / "checkpoints").exists(), "training started"


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.faults
def test_killed_node_stops_the_job_and_a_node_without_its_run_dir_resumes_exactly(tmp_path):
    # 1. non-shared run_dirs; node 1 is killed (agent and rank) in the middle of epoch 3
    cfgs = [_cfg(tmp_path, "run0", epochs=50), _cfg(tmp_path, "run1", epochs=50)]
    killed_at: list[float] = []

    def kill_node_1():
        deadline = time.time() + 180
        while time.time() < deadline:
            metrics = tmp_path / "run0" / "metrics.csv"
            if metrics.exists() and any(r["kind"] == "step" and int(r["epoch"]) >= 3 for r in read_metrics(metrics)):
                pids = _node_pids(tmp_path / "run1" / "launch_config_node1.json")
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                killed_at.append(time.time())
                return
            time.sleep(0.1)

    (r0, _), (r1, _) = _two_nodes(cfgs, during=kill_node_1)
    assert killed_at, "node 1 was never killed"
    assert isinstance(r0, LaunchError) and isinstance(r1, LaunchError), (r0, r1)
    assert "likely causes" in str(r0) and "node or rank died" in str(r0), str(r0)
    node0_stop = time.time() - killed_at[0]
    print(f"\nkilled node 1: node 0 reported the failure within {node0_stop:.1f}s of the kill:\n{r0}")
    assert node0_stop < 30 + 20, "node 0 did not stop within the collective timeout"
    last_epoch = torch.load(tmp_path / "run0" / "checkpoints" / "last.pth", weights_only=False)["epoch"]
    assert last_epoch >= 2

    # 2. node 1's run_dir is gone; resuming takes rank 0's state to both nodes
    shutil.rmtree(tmp_path / "run1")
    epochs = last_epoch + 1
    cfgs = [_cfg(tmp_path, "run0", epochs=epochs, resume=True), _cfg(tmp_path, "run1", epochs=epochs, resume=True)]
    start = time.time()
    (s0, t0), (s1, t1) = _two_nodes(cfgs)
    print(f"resume without node 1's run_dir: {time.time() - start:.1f}s")
    assert isinstance(s0, dict) and s0["resumed_from_epoch"] == last_epoch, s0
    assert s1 == {}, s1          # rank 0 alone writes the summary, into node 0's run_dir
    rank1_log = (tmp_path / "run1" / "train_rank1.log").read_text()
    assert "has no" in rank1_log and "resuming from rank 0's copy" in rank1_log, rank1_log
    assert f"(epoch {last_epoch} of {epochs})" in rank1_log, rank1_log

    # 3. the same job uninterrupted in one shared run_dir: identical weights, a log folder per node
    shared = [_cfg(tmp_path, "shared", epochs=epochs), _cfg(tmp_path, "shared", epochs=epochs)]
    start = time.time()
    (u0, _), (u1, _) = _two_nodes(shared)
    print(f"uninterrupted shared run_dir, {epochs} epochs: {time.time() - start:.1f}s")
    assert isinstance(u0, dict) and u0["world_size"] == 2, u0
    resumed = _weights(tmp_path / "run0" / "checkpoints" / f"siamfc_e{epochs}.pth")
    uninterrupted = _weights(tmp_path / "shared" / "checkpoints" / f"siamfc_e{epochs}.pth")
    for name, value in uninterrupted.items():
        assert torch.equal(resumed[name], value), name
    logs = tmp_path / "shared" / "logs"
    for node in (0, 1):
        text = (logs / f"node_{node}" / f"rank_{node}.log").read_text()
        assert text.startswith(f"# global rank {node} (node {node}, local rank 0 of 1)"), text[:200]
        assert (logs / f"node_{node}" / "torchrun").is_dir(), "a node's launcher deleted another node's logs"
    assert not list(logs.glob("rank_*.log"))
