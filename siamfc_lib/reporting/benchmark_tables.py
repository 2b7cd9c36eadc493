"""06's table per evaluated benchmark: our trackers in its protocol's columns, published SiamFC beside.

Each table is named by its data set and says how it was scored; the published figures
(:mod:`.published`) come with their sources, never mixed into our rows. A table whose data is an
embedded look-alike says that its numbers are not the benchmark's.
"""
from __future__ import annotations

from typing import Any

from ..data.benchmarks import BENCHMARKS
from ..evaluation.protocols import HEADERS, protocol
from .published import PUBLISHED

LOOK_ALIKE_NOTE = ("embedded look-alike in the benchmark's layout (synthetic): these numbers check the pipeline, "
                   "they say nothing about {title} itself")


def _notes(key: str, title: str, runs: list[Any]) -> list[str]:
    notes = []
    if any("synthetic" in (run.dataset or "") for run in runs):
        notes.append(LOOK_ALIKE_NOTE.format(title=title))
    for run in runs:
        status = run.info.get("training_protocol")
        if status:
            notes.append(f"{run.label}: GOT-10k training protocol: {status.get('note')}")
        if run.info.get("submission"):
            notes.append(f"{run.label}: submission zip (checked against the server's layout): "
                         f"{run.info['submission']}")
    return notes


def benchmark_table(key: str, runs: list[Any]) -> dict:
    spec = BENCHMARKS.get(key)
    title = spec.title if spec else key
    proto = protocol(spec.protocol if spec else "otb")
    metrics = [k for k, _ in proto.columns]
    rows = [{"run": run.label, "dataset": run.dataset, "tracker": tracker, "device": run.device_of(tracker),
             **{k: r.get(k) for k in metrics}, "sequences": r.get("sequences"), "frames": r.get("frames")}
            for run in runs for tracker, r in run.reports.items()]
    published = PUBLISHED.get(key, [])
    return {"benchmark": key, "title": title, "scored_by": proto.source, "headers": dict(HEADERS),
            "columns": ["run", "dataset", "tracker", "device", *metrics, "sequences", "frames"], "rows": rows,
            "published": published,
            "published_columns": ["source", "train", *[k for k in HEADERS if any(k in p for p in published)]],
            "notes": _notes(key, title, runs)}


def benchmark_tables(eval_runs: list[Any]) -> list[dict]:
    """One table per benchmark among ``eval_runs`` (EvalRun objects), in the benchmark table's order."""
    groups: dict[str, list[Any]] = {}
    for run in eval_runs:
        groups.setdefault(run.benchmark, []).append(run)
    order = [k for k in BENCHMARKS if k in groups] + sorted(set(groups) - set(BENCHMARKS))
    return [benchmark_table(key, groups[key]) for key in order]
