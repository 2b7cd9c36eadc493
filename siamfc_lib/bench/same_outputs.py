"""``python -m siamfc_lib.bench same_outputs OLD NEW``: do two ``make demo`` output trees agree?

A refactoring must not change what the pipeline computes. This compares what is computed,
leaving out only what is measured (seconds and rates differ from run to run):

* every file under ``eval/**/results/`` (the boxes, and each tracker's ``.tracker`` stamp), byte for byte;
* ``report.json``, ``reports.json``, ``curves.json`` and ``sweep.json`` of every evaluation folder,
  byte for byte once the measured fields are dropped: ``fps`` (per-frame times) and, in ``sweep.json``,
  ``checkpoint_sha256`` (a checkpoint file also stores the run's elapsed seconds);
* every checkpoint's network, optimizer and scheduler state, tensor by tensor, bit for bit;
* each training run's ``metrics.csv`` losses and learning rates.

Prints ``{"identical": bool, "compared": {...}, "differences": [...]}``.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

MEASURED_KEYS = {"fps", "checkpoint_sha256"}
REPORT_FILES = ("report.json", "reports.json", "curves.json", "sweep.json")
METRIC_COLUMNS = ("kind", "epoch", "step", "loss", "val_loss", "lr")


def _without_measured(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_measured(v) for k, v in value.items() if k not in MEASURED_KEYS}
    if isinstance(value, list):
        return [_without_measured(v) for v in value]
    return value


def _files(root: Path, pattern: str) -> set[Path]:
    return {p.relative_to(root) for p in root.glob(pattern) if p.is_file()}


def _compare_sets(old: set[Path], new: set[Path], what: str, differences: list[str]) -> set[Path]:
    for rel in sorted(old ^ new):
        differences.append(f"{what} {rel}: only in {'the old' if rel in old else 'the new'} tree")
    return old & new


def _compare_results(old: Path, new: Path, differences: list[str]) -> int:
    common = _compare_sets(_files(old, "eval*/**/results/**/*") | _files(old, "eval*/**/results/**/.tracker"),
                           _files(new, "eval*/**/results/**/*") | _files(new, "eval*/**/results/**/.tracker"),
                           "result", differences)
    for rel in sorted(common):
        if (old / rel).read_bytes() != (new / rel).read_bytes():
            differences.append(f"result {rel}: the bytes differ")
    return len(common)


def _compare_reports(old: Path, new: Path, differences: list[str]) -> int:
    patterns = [f"eval*/**/{name}" for name in REPORT_FILES]
    common = _compare_sets(set().union(*(_files(old, p) for p in patterns)),
                           set().union(*(_files(new, p) for p in patterns)), "report", differences)
    for rel in sorted(common):
        a, b = (json.dumps(_without_measured(json.loads((root / rel).read_text())), indent=2, sort_keys=True)
                for root in (old, new))
        if a != b:
            differences.append(f"report {rel}: differs beyond the measured fields {sorted(MEASURED_KEYS)}")
    return len(common)


def _tensors(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every tensor in a nested checkpoint dict, by its path (``model.backbone.0.weight``)."""
    import torch

    if isinstance(value, torch.Tensor):
        return {prefix: value}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_tensors(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, (list, tuple)):
        out = {}
        for i, v in enumerate(value):
            out.update(_tensors(v, f"{prefix}[{i}]"))
        return out
    return {}


def _compare_checkpoints(old: Path, new: Path, differences: list[str]) -> int:
    import torch

    from ..training.checkpoints import load_checkpoint

    common = _compare_sets(_files(old, "train*/checkpoints/*.pth"), _files(new, "train*/checkpoints/*.pth"),
                           "checkpoint", differences)
    for rel in sorted(common):
        a, b = (load_checkpoint(root / rel) for root in (old, new))
        for part in ("model", "optimizer", "scheduler"):
            ta, tb = _tensors(a[part]), _tensors(b[part])
            if ta.keys() != tb.keys():
                differences.append(f"checkpoint {rel} {part}: other tensors")
                continue
            bad = [k for k in ta if ta[k].dtype != tb[k].dtype or not torch.equal(ta[k], tb[k])]
            if bad:
                differences.append(f"checkpoint {rel} {part}: {len(bad)} tensor(s) differ, e.g. {bad[0]}")
        if (a.get("epoch"), a.get("config")) != (b.get("epoch"), b.get("config")):
            differences.append(f"checkpoint {rel}: epoch or config differ")
    return len(common)


def _metric_rows(path: Path) -> list[tuple]:
    with open(path, newline="") as f:
        return [tuple(row.get(c, "") for c in METRIC_COLUMNS) for row in csv.DictReader(f)]


def _compare_metrics(old: Path, new: Path, differences: list[str]) -> int:
    common = _compare_sets(_files(old, "train*/metrics.csv"), _files(new, "train*/metrics.csv"), "metrics",
                           differences)
    for rel in sorted(common):
        if _metric_rows(old / rel) != _metric_rows(new / rel):
            differences.append(f"metrics {rel}: losses or learning rates differ")
    return len(common)


def compare(old: str | Path, new: str | Path) -> dict:
    old, new = Path(old), Path(new)
    for root in (old, new):
        if not (root / "eval").is_dir():
            raise SystemExit(f"{root} holds no eval/ folder: give two `make demo` output folders (outputs/demo)")
    differences: list[str] = []
    compared = {"result_files": _compare_results(old, new, differences),
                "report_files": _compare_reports(old, new, differences),
                "checkpoints": _compare_checkpoints(old, new, differences),
                "metrics_files": _compare_metrics(old, new, differences)}
    return {"old": str(old), "new": str(new), "identical": not differences, "compared": compared,
            "ignored_as_measured": sorted(MEASURED_KEYS) + ["times/", "metrics.csv pairs_per_s and seconds"],
            "differences": differences}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench same_outputs", description=__doc__)
    parser.add_argument("old", help="an outputs/<profile> folder written before the change")
    parser.add_argument("new", help="the same folder written after it")
    args = parser.parse_args(argv)
    return compare(args.old, args.new)
