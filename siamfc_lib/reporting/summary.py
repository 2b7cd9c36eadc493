"""Collect training and evaluation run folders into one summary (06_results' ``summary.json``).

Every number in the summary is read from files a run of this project wrote; the published
figures (:mod:`.published`) sit beside them, labelled with their sources.
"""
from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from ..training.run_log import read_metrics
from .published import PUBLISHED_OTB2015, SEED_SOURCE, SEED_TABLE, TARGETS


@dataclass
class TrainRun:
    run_dir: Path
    summary: dict
    metrics: list[dict]

    @property
    def label(self) -> str:
        s = self.summary
        return f"{self.run_dir.name} ({s.get('world_size', 1)}x {s.get('device', '?')}, {s.get('precision', '?')})"

    def epoch_rows(self) -> list[dict]:
        return [r for r in self.metrics if r.get("kind") == "epoch"]


@dataclass
class EvalRun:
    run_dir: Path
    reports: dict[str, dict]
    curves: dict[str, dict]
    sweep: dict | None = None
    dataset: str = ""
    attributes: dict[str, dict] = field(default_factory=dict)


def _read_json(path: Path, what: str) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"{what}: {path} does not exist (has the run finished?)")
    return json.loads(path.read_text(encoding="utf-8"))


def load_train_run(run_dir: str | Path) -> TrainRun:
    run_dir = Path(run_dir)
    summary = _read_json(run_dir / "summary.json", "training summary")
    return TrainRun(run_dir, summary, read_metrics(run_dir / "metrics.csv"))


def load_eval_run(run_dir: str | Path) -> EvalRun:
    run_dir = Path(run_dir)
    reports = _read_json(run_dir / "reports.json", "evaluation reports")
    curves = _read_json(run_dir / "curves.json", "evaluation curves")
    sweep_file = run_dir / "sweep" / "sweep.json"
    sweep = json.loads(sweep_file.read_text()) if sweep_file.exists() else None
    dataset = next(iter(reports.values()), {}).get("dataset", "")
    return EvalRun(run_dir, reports, curves, sweep, dataset)


def machine() -> dict:
    """The machine this report was made on (the runs' own device names are in their summaries)."""
    import torch

    info = {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _num(x) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def training_table(train_runs: list[TrainRun]) -> list[dict]:
    """One row per training run: devices, precision, pairs/s, losses."""
    rows = []
    for run in train_runs:
        s = run.summary
        epochs = run.epoch_rows()
        rows.append({
            "run": run.run_dir.name, "devices": s.get("world_size", 1), "device": s.get("device"),
            "device_name": s.get("device_name"), "precision": s.get("precision"), "batch_per_device": s.get("batch_size"),
            "width": s.get("width"), "epochs": s.get("epochs"), "pairs_per_s": _num(s.get("pairs_per_s")),
            "first_val_loss": _num(epochs[0].get("val_loss")) if epochs else None,
            "final_val_loss": _num(s.get("final_val_loss")), "final_loss": _num(s.get("final_loss")),
            "seconds": _num(s.get("seconds")),
        })
    return rows


def evaluation_table(eval_runs: list[EvalRun]) -> list[dict]:
    rows = []
    for run in eval_runs:
        for tracker, r in run.reports.items():
            rows.append({"run": run.run_dir.name, "dataset": r.get("dataset"), "tracker": tracker,
                         "auc": r["auc"], "precision_20": r["precision_20"], "success_50": r["success_50"],
                         "norm_precision": r.get("norm_precision"), "fps": r.get("fps"),
                         "sequences": r["sequences"], "frames": r["frames"]})
    return rows


def seed_comparison(train_runs: list[TrainRun], eval_runs: list[EvalRun], primary: str = "SiamFC") -> list[dict]:
    """The seed's table with our measured rows beside it, each row saying where it comes from."""
    host = machine()
    rows = [{**r, "source": SEED_SOURCE, "data": "ILSVRC2015-VID -> OTB2015", "measured_here": False}
            for r in SEED_TABLE]
    precision = None
    dataset = ""
    for run in eval_runs:
        if primary in run.reports:
            precision, dataset = run.reports[primary]["precision_20"], run.dataset
    for t in training_table(train_runs):
        rows.append({"name": f"ours: {t['run']}", "precision": precision, "pairs_per_s": t["pairs_per_s"],
                     "devices": t["devices"], "epochs": t["epochs"], "amp": t["precision"],
                     "source": f"this project, {t['device_name'] or t['device']} ({host['cpu_count']} CPU cores)",
                     "data": f"embedded VID -> {dataset or 'embedded OTB'}", "measured_here": True})
    return rows


def build_summary(train_dirs: list[str], eval_dirs: list[str]) -> tuple[dict, list[TrainRun], list[EvalRun]]:
    train_runs = [load_train_run(d) for d in train_dirs]
    eval_runs = [load_eval_run(d) for d in eval_dirs]
    sweeps = {run.run_dir.name: {k: run.sweep[k] for k in ("last", "best", "selected_by", "selection_note")}
              for run in eval_runs if run.sweep}
    summary = {
        "machine": machine(),
        "training": training_table(train_runs),
        "evaluation": evaluation_table(eval_runs),
        "per_attribute": {run.run_dir.name: {t: r.get("per_attribute", {}) for t, r in run.reports.items()}
                          for run in eval_runs},
        "epoch_sweep": sweeps,
        "seed_comparison": seed_comparison(train_runs, eval_runs),
        "published_otb2015": PUBLISHED_OTB2015,
        "targets_real_data": TARGETS,
    }
    return summary, train_runs, eval_runs


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
        return str(v)

    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)
    return head + "\n" + "\n".join("| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows)
