"""Start multi-device training with torchrun from a notebook, stream rank 0, fail loudly.

The notebook cell calls :func:`launch`; torchrun (``python -m torch.distributed.run``)
starts ``npus`` processes per node running :mod:`siamfc_lib.training.run`, and its elastic
agent tears the whole job down when any rank dies. Rank 0's output streams into the cell
live; every rank's output is also kept in ``run_dir/logs/node_<k>/rank_<global rank>.log``, each
node's launcher writing only its own ``node_<k>`` folder (a shared ``run_dir`` keeps every node's
logs). When the job fails,
:class:`LaunchError` names the failing rank, its exit code and the end of its log, so
papermill marks the notebook failed with the reason visible.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Callable

from ..config import TrainConfig, to_dict
from ..io_utils import atomic_write_text
from .preflight import check_launch


class LaunchError(RuntimeError):
    """The distributed job failed; the message says which rank and why."""


def torchrun_command(config_path: Path, npus: int, nnodes: int = 1, node_rank: int = 0,
                     master_addr: str = "127.0.0.1", master_port: int = 29500,
                     log_dir: Path | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "torch.distributed.run",
           f"--nproc-per-node={npus}", f"--nnodes={nnodes}", f"--node-rank={node_rank}",
           f"--master-addr={master_addr}", f"--master-port={master_port}",
           "--max-restarts=0", "--monitor-interval=0.5"]
    if log_dir is not None:
        cmd += [f"--log-dir={log_dir}", "--tee=3", "--local-ranks-filter=0"]
    return cmd + ["-m", "siamfc_lib.training.run", "--config", str(config_path)]


def node_log_dir(run_dir: str | Path, node_rank: int) -> Path:
    """This node's log folder: only its own launcher writes or clears it."""
    return Path(run_dir) / "logs" / f"node_{node_rank}"


def _failure_message(output: list[str], run_dir: Path, returncode: int, node_rank: int = 0) -> str:
    """Pick the failing rank out of torchrun's error summary and attach its log's tail."""
    text = "\n".join(output)
    text = text[text.rfind("Root Cause"):] if "Root Cause" in text else text
    ranks = re.findall(r"rank\s*:\s*(\d+)", text)
    codes = re.findall(r"exitcode\s*:\s*(-?\d+)", text)
    rank = int(ranks[0]) if ranks else None
    lines = [f"distributed training failed (torchrun exit code {returncode})"]
    if rank is not None:
        code = int(codes[0]) if codes else None
        why = f"exit code {code}" + (f" (killed by signal {-code})" if code is not None and code < 0 else "")
        lines.append(f"first failing rank: {rank}, {why}")
        log = node_log_dir(run_dir, node_rank) / f"rank_{rank}.log"
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-15:]
            lines.append(f"last lines of {log}:")
            lines += ["    " + t for t in tail]
    errors = [ln for ln in output if "Error" in ln or "error:" in ln]
    if errors:
        lines.append("errors reported:")
        lines += ["    " + e.strip() for e in errors[-5:]]
    return "\n".join(lines)


def _collect_rank_logs(torchrun_logs: Path, run_dir: Path, node_rank: int, npus: int) -> None:
    """Copy torchrun's per-process stdout/stderr into ``logs/node_<k>/rank_<global rank>.log``."""
    for local in range(npus):
        parts = []
        for name in ("stdout.log", "stderr.log"):
            for f in sorted(torchrun_logs.glob(f"*/attempt_*/{local}/{name}")):
                parts.append(f.read_text(errors="replace"))
        if parts:
            rank = node_rank * npus + local
            header = f"# global rank {rank} (node {node_rank}, local rank {local} of {npus}) on host {socket.gethostname()}\n"
            atomic_write_text(node_log_dir(run_dir, node_rank) / f"rank_{rank}.log", header + "".join(parts))


RANK_FAILED = "failed (exitcode"      # torch.distributed.elastic's log line for a worker that failed
LINGER_S = 30.0                       # how long torchrun may stay after one of its ranks failed


def stream(proc: subprocess.Popen, echo: Callable[[str], None], tail: deque,
           linger_s: float = LINGER_S, timeout_s: float | None = None) -> int:
    """Echo torchrun's output and wait for it; stop it when it lingers ``linger_s`` after a rank failed.

    A failed job should end at once, but torchrun's agent can wait minutes for the agents of other
    nodes (its exit barrier and rendezvous store wait up to 300 s by default) when a peer node died:
    the surviving node's launcher then exits within ``collective_timeout_s`` (its rank's own wait)
    plus ``linger_s``.
    """
    timer: threading.Timer | None = None

    def stop() -> None:
        if proc.poll() is None:
            echo(f"[launch] torchrun was still waiting {linger_s:.0f}s after a rank failed (for the agents of other "
                 "nodes): stopped it")
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            echo(re.sub(r"^\[default0\]:", "", line))
            if timer is None and RANK_FAILED in line:
                timer = threading.Timer(linger_s, stop)
                timer.daemon = True
                timer.start()
        return proc.wait(timeout=timeout_s)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        if timer is not None:
            timer.cancel()


def launch(cfg: TrainConfig, npus: int, nnodes: int = 1, node_rank: int = 0,
           master_addr: str = "127.0.0.1", master_port: int = 29500,
           echo: Callable[[str], None] | None = None, env: dict | None = None,
           timeout_s: float | None = None, progress: bool | None = False) -> dict:
    """Run distributed training and return rank 0's summary (``run_dir/summary.json``)."""
    if npus < 1 or nnodes < 1 or not 0 <= node_rank < nnodes:
        raise ValueError(f"invalid topology: npus={npus}, nnodes={nnodes}, node_rank={node_rank}")
    echo = echo or (lambda line: print(line, flush=True))
    check_launch(cfg, npus, nnodes)   # fail here, with the fix, before torchrun starts any process
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    # one file per node: nodes sharing run_dir may differ in paths (data, LMDB)
    config_path = run_dir / ("launch_config.json" if node_rank == 0 else f"launch_config_node{node_rank}.json")
    atomic_write_text(config_path, json.dumps({**to_dict(cfg), "progress": progress}, indent=2))
    torchrun_logs = node_log_dir(run_dir, node_rank) / "torchrun"
    if torchrun_logs.exists():
        shutil.rmtree(torchrun_logs)
    cmd = torchrun_command(config_path, npus, nnodes, node_rank, master_addr, master_port, torchrun_logs)
    child_env = {**os.environ, **(env or {})}
    child_env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // npus)))
    child_env["PYTHONUNBUFFERED"] = "1"
    echo(f"[launch] {npus} process(es) per node x {nnodes} node(s): {' '.join(cmd)}")
    tail: deque[str] = deque(maxlen=400)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1, env=child_env)
    try:
        returncode = stream(proc, echo, tail, timeout_s=timeout_s)
    finally:
        _collect_rank_logs(torchrun_logs, run_dir, node_rank, npus)
    if returncode != 0:
        raise LaunchError(_failure_message(list(tail), run_dir, returncode, node_rank))
    summary = run_dir / "summary.json"
    return json.loads(summary.read_text()) if summary.exists() else {}
