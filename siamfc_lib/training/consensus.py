"""Make the ranks of a multi-node job agree before they train, and explain when they stop.

Why: every node has its own disk. Without this a node whose ``run_dir`` lost its checkpoint
restarts from epoch 0 while the others resume, and a node with another curation trains on other
pairs; both show up only as a collective that hangs. At start-up every rank gathers each
node's data fingerprints and ``last.pth`` hash (one ``all_gather_object``); all ranks compare
the same list, so they either all continue or all raise the same error naming the node.
Global rank 0 alone decides the resume state; a rank whose file differs or is missing gets rank
0's bytes over the process group.
"""
from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Any

from ..io_utils import file_sha256
from .checkpoints import checkpoint_dir, load_checkpoint
from .context import DistributedContext
from .fingerprint import data_fingerprint


class NodesDisagreeError(RuntimeError):
    """The nodes of a job would train on different data or from different states."""


class CollectiveError(RuntimeError):
    """A collective operation failed or timed out; the message lists the likely causes."""


def node_rank_from_env(rank: int = 0, env: dict | None = None) -> int:
    """torchrun's ``GROUP_RANK`` (the node rank), else ``rank // LOCAL_WORLD_SIZE``, else 0."""
    env = os.environ if env is None else env
    if "GROUP_RANK" in env:
        return int(env["GROUP_RANK"])
    if "LOCAL_WORLD_SIZE" in env:
        return rank // max(1, int(env["LOCAL_WORLD_SIZE"]))
    return 0


def where(report: dict[str, Any]) -> str:
    return f"node {report['node']} (host {report['host']}, rank {report['rank']})"


def _file_summary(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    return {"path": str(path), "size": path.stat().st_size, "sha256": file_sha256(path)}


def start_report(cfg, ctx: DistributedContext, run_dir: Path) -> dict[str, Any]:
    """This rank's identity, data fingerprint (one rank per node computes it) and ``last.pth``."""
    last = checkpoint_dir(run_dir) / "last.pth"
    return {
        "rank": ctx.rank, "node": node_rank_from_env(ctx.rank), "host": socket.gethostname(),
        "data": data_fingerprint(cfg.data_path, cfg.lmdb_path) if ctx.local_rank == 0 else None,
        "last": _file_summary(last) if cfg.resume else None, "last_path": str(last),
    }


def data_mismatch(reports: list[dict[str, Any]]) -> str | None:
    """The error text when any node's data fingerprint differs from global rank 0's, else None."""
    ref = reports[0]
    lines = []
    for rep in reports[1:]:
        if rep["data"] is None or ref["data"] is None:
            continue
        for role, (ref_path, ref_sum) in ref["data"].items():
            path, summary = rep["data"].get(role, ("(not used)", {}))
            if summary == ref_sum:
                continue
            diffs = [f"{k}: {summary.get(k, 'absent')} (node {ref['node']}: {ref_sum.get(k, 'absent')})"
                     for k in sorted(set(summary) | set(ref_sum)) if summary.get(k) != ref_sum.get(k)]
            lines.append(f"  {where(rep)}: {role} at {path} differs from node {ref['node']}'s "
                         f"(host {ref['host']}, {ref_path}): " + "; ".join(diffs))
    if not lines:
        return None
    return ("the nodes would train on different data; stopped before training:\n" + "\n".join(lines) +
            "\nfix: give every node an identical copy of node 0's curated folder and LMDB (copy them, "
            "e.g. rsync -a, or use shared storage), then point data_path / lmdb_path at it")


def resume_plan(reports: list[dict[str, Any]], resume: bool) -> tuple[bool, list[int]]:
    """``(resume from rank 0's last.pth, ranks that must receive it)``, decided by global rank 0.

    Raises :class:`NodesDisagreeError` when rank 0 has no checkpoint but another node has one:
    starting over there would throw that node's training away, and only rank 0 writes checkpoints.
    """
    if not resume:
        return False, []
    ref = reports[0]["last"]
    if ref is None:
        others = [r for r in reports[1:] if r["last"] is not None]
        if others:
            seen = "; ".join(f"{where(r)} has {r['last']['path']} ({r['last']['size']} bytes)" for r in others)
            raise NodesDisagreeError(
                f"resume requested, but global rank 0 ({where(reports[0])}) has no {reports[0]['last_path']} "
                f"while {seen}. Rank 0 writes the checkpoints and decides the resume state: copy that file to "
                f"{reports[0]['last_path']} on node {reports[0]['node']} (or use a run_dir on shared storage), "
                "or set resume=False to start over")
        return False, []
    return True, [r["rank"] for r in reports[1:] if r["last"] is None or r["last"]["sha256"] != ref["sha256"]]


def agree_on_start(cfg, ctx: DistributedContext, run_dir: Path, logger) -> tuple[bool, list[dict[str, Any]]]:
    """Gather every rank's start report; raise the same error on every rank if the nodes disagree.

    Returns ``(resume from rank 0's last.pth, the reports)``; a no-op list in one process.
    """
    if ctx.world_size <= 1:
        last = checkpoint_dir(run_dir) / "last.pth"
        return bool(cfg.resume and last.exists()), []
    reports = ctx.all_gather_object(start_report(cfg, ctx, run_dir))
    problem = data_mismatch(reports)
    if problem:
        raise NodesDisagreeError(problem)
    resume, _ = resume_plan(reports, cfg.resume)
    nodes = sorted({(r["node"], r["host"]) for r in reports})
    logger.info(f"{len(nodes)} node(s) agree on the data: " + ", ".join(f"node {n} ({h})" for n, h in nodes))
    return resume, reports


def resume_checkpoint(ctx: DistributedContext, run_dir: Path, reports: list[dict[str, Any]],
                      map_location, logger) -> dict[str, Any]:
    """Rank 0's ``last.pth`` on every rank: read locally where identical, else sent by rank 0."""
    last = checkpoint_dir(run_dir) / "last.pth"
    if ctx.world_size <= 1:
        return load_checkpoint(last, map_location=map_location)
    _, receivers = resume_plan(reports, True)
    ref = reports[0]["last"]
    if receivers:
        data = ctx.broadcast_object(last.read_bytes() if ctx.is_main else None, src=0)
        if ctx.is_main:
            lacking = ", ".join(f"{where(reports[r])}: {'missing' if reports[r]['last'] is None else 'different file'}"
                                for r in receivers)
            logger.info(f"sent rank 0's {last} ({len(data)} bytes) to the rank(s) without an identical copy: {lacking}")
    if ctx.rank not in receivers:
        return load_checkpoint(last, map_location=map_location)
    if hashlib.sha256(data).hexdigest() != ref["sha256"]:
        raise NodesDisagreeError(f"rank 0's {ref['path']} changed while it was being sent; start the job again")
    fd, tmp = tempfile.mkstemp(suffix=".pth", prefix="siamfc_resume_")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        ckpt = load_checkpoint(tmp, map_location=map_location)
    finally:
        os.unlink(tmp)
    ckpt["path"] = f"{ref['path']} of {where(reports[0])}"
    mine = "has no" if reports[ctx.rank]["last"] is None else "has a different"
    logger.info(f"{where(reports[ctx.rank])} {mine} {last}: resuming from rank 0's copy, received over the "
                "process group")
    return ckpt


_COLLECTIVE = re.compile(r"gloo|nccl|hccl|ProcessGroup|Connection (closed|reset) by peer|Broken pipe|"
                         r"[Tt]imed out|timeout", re.IGNORECASE)


def is_collective_failure(exc: BaseException) -> bool:
    import torch.distributed as dist

    if isinstance(exc, (NodesDisagreeError, CollectiveError)):
        return False
    if isinstance(exc, getattr(dist, "DistError", ())):
        return True
    return isinstance(exc, RuntimeError) and bool(_COLLECTIVE.search(str(exc)))


def collective_failure_message(exc: BaseException, rank: int, timeout_s: float, run_dir: str | Path) -> str:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    here = {"rank": rank, "node": node_rank_from_env(rank), "host": socket.gethostname()}
    return (f"{where(here)}: a collective operation with the other ranks failed or timed out "
            f"(collective_timeout_s={timeout_s:g}): {type(exc).__name__}: {first}\n"
            "likely causes: (1) another node or rank died or was stopped: read its launcher output and "
            f"{Path(run_dir) / 'logs'}/node_<k>/ on that machine; (2) the nodes' data differ (checked at start: "
            "a file changed since?); (3) the nodes resumed from different states (e.g. different code or "
            "config per node); (4) a rank was slower than the timeout (raise collective_timeout_s)")
