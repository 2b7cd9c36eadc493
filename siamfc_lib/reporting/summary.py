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

from ..data.benchmarks import BENCHMARKS
from ..data.manifest import curation_sources
from ..data.otb_attributes import attribute_name
from ..data.provenance import training_sources_label
from ..evaluation.results import read_eval_info
from ..paths import not_found
from ..training.run_log import read_metrics
from .benchmark_tables import benchmark_tables
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
    info: dict = field(default_factory=dict)      # eval_info.json: benchmark, data set, device, checkpoint

    @property
    def benchmark(self) -> str:
        """The benchmark evaluated (runs from before benchmarks were recorded evaluated OTB2015)."""
        return self.info.get("benchmark", "otb2015")

    @property
    def label(self) -> str:
        """The run's name in tables: its folder, and the parent folder for a benchmark's sub-run."""
        return self.run_dir.name if self.benchmark == "otb2015" else f"{self.run_dir.parent.name}/{self.run_dir.name}"

    def device_of(self, tracker: str) -> str:
        """SiamFC trackers ran on the run's device; the OpenCV baselines always on the CPU."""
        if not tracker.startswith("SiamFC"):
            return "CPU (OpenCV)"
        return self.info.get("device_name") or self.info.get("device") or "not recorded"

    def evaluated(self, train_run_dir: Path) -> bool:
        """Did this run evaluate a checkpoint of ``train_run_dir``?"""
        checkpoint = self.info.get("checkpoint")
        if not checkpoint:
            return False
        train = Path(train_run_dir).resolve()
        return Path(checkpoint).resolve() == train or train in Path(checkpoint).resolve().parents


def training_data_label(train_run_dir: str | Path) -> str:
    """The data set a training run read, from its ``config.json`` and its curation's source.

    Relative paths resolve from the working directory (the project root in the notebooks).
    """
    try:
        data_path = json.loads((Path(train_run_dir) / "config.json").read_text())["data_path"]
        return training_sources_label(curation_sources(data_path))
    except (OSError, KeyError, IndexError, ValueError):
        return "not recorded"


def _read_json(path: Path, what: str, provider: str) -> dict:
    if not path.exists():
        raise not_found(f"{what} (has the run finished?)", path, provider)
    return json.loads(path.read_text(encoding="utf-8"))


def load_train_run(run_dir: str | Path) -> TrainRun:
    run_dir = Path(run_dir)
    summary = _read_json(run_dir / "summary.json", "training summary", "train_run")
    return TrainRun(run_dir, summary, read_metrics(run_dir / "metrics.csv"))


def eval_run_dirs(eval_dir: str | Path) -> list[Path]:
    """The evaluation run folders in one of 06's ``eval_dirs``: the folder itself when it holds a
    run, and each benchmark's sub-run 05 wrote under it (``<eval_dir>/<benchmark>/``)."""
    eval_dir = Path(eval_dir)
    subs = [eval_dir / key for key in BENCHMARKS if (eval_dir / key / "reports.json").exists()]
    return ([eval_dir] if (eval_dir / "reports.json").exists() or not subs else []) + subs


def load_eval_run(run_dir: str | Path) -> EvalRun:
    run_dir = Path(run_dir)
    reports = _read_json(run_dir / "reports.json", "evaluation reports", "eval_run")
    curves = _read_json(run_dir / "curves.json", "evaluation curves", "eval_run")
    sweep_file = run_dir / "sweep" / "sweep.json"
    sweep = json.loads(sweep_file.read_text()) if sweep_file.exists() else None
    info = read_eval_info(run_dir)
    dataset = info.get("dataset") or next(iter(reports.values()), {}).get("dataset", "")
    return EvalRun(run_dir, reports, curves, sweep, dataset, info=info)


def machine() -> dict:
    """The machine this report was made on (the runs' own device names are in their summaries)."""
    import torch

    from ..cores import cpu_model

    info = {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "cpu": cpu_model(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
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
            "run": run.run_dir.name, "data": training_data_label(run.run_dir),
            "devices": s.get("world_size", 1), "device": s.get("device"),
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
            rows.append({"run": run.label, "benchmark": run.benchmark, "dataset": run.dataset or r.get("dataset"),
                         "tracker": tracker, "device": run.device_of(tracker),
                         **{k: r.get(k) for k in ("auc", "precision_20", "success_50", "norm_precision", "ao", "sr_50",
                                                  "sr_75", "fps")},
                         "sequences": r["sequences"], "frames": r["frames"]})
    return rows


def seed_comparison(train_runs: list[TrainRun], training_rows: list[dict], eval_runs: list[EvalRun], host: dict,
                    primary: str = "SiamFC") -> list[dict]:
    """The seed's table with our measured rows beside it, each row saying where it comes from.

    ``training_rows``: :func:`training_table` of ``train_runs``; ``host``: :func:`machine`."""
    rows = [{**r, "source": SEED_SOURCE, "data": "ILSVRC2015-VID -> OTB2015", "measured_here": False}
            for r in SEED_TABLE]
    for run, t in zip(train_runs, training_rows):
        # Only an evaluation of this very run's checkpoint gives it a precision: the 2-process
        # run is not the 1-process checkpoint, however alike their losses look.
        evaluated = [e for e in eval_runs if e.benchmark == "otb2015" and primary in e.reports
                     and e.evaluated(run.run_dir)]
        precision = evaluated[-1].reports[primary].get("precision_20") if evaluated else None
        data = (f"{t['data']} -> {evaluated[-1].dataset}" if evaluated
                else f"{t['data']}; not evaluated (no 05_eval_otb run of this checkpoint)")
        rows.append({"name": f"ours: {t['run']}", "precision": precision, "pairs_per_s": t["pairs_per_s"],
                     "devices": t["devices"], "epochs": t["epochs"], "amp": t["precision"],
                     "source": f"this project, {t['device_name'] or t['device']} ({host['cpu_count']} CPU cores)",
                     "data": data, "measured_here": True})
    return rows


def build_summary(train_dirs: list[str], eval_dirs: list[str]) -> tuple[dict, list[TrainRun], list[EvalRun]]:
    train_runs = [load_train_run(d) for d in train_dirs]
    eval_runs = [load_eval_run(d) for eval_dir in eval_dirs for d in eval_run_dirs(eval_dir)]
    sweeps = {run.label: {k: run.sweep[k] for k in ("last", "best", "selected_by", "selection_note")}
              for run in eval_runs if run.sweep}
    host, training = machine(), training_table(train_runs)
    summary = {
        "machine": host,
        "training": training,
        "evaluation": evaluation_table(eval_runs),
        "benchmarks": benchmark_tables(eval_runs),
        "per_attribute": {run.label: {t: r.get("per_attribute", {}) for t, r in run.reports.items()}
                          for run in eval_runs},
        "per_attribute_table": attribute_table(eval_runs),
        "epoch_sweep": sweeps,
        "seed_comparison": seed_comparison(train_runs, training, eval_runs, host),
        "published_otb2015": PUBLISHED_OTB2015,
        "targets_real_data": TARGETS,
    }
    return summary, train_runs, eval_runs


def attribute_table(eval_runs: list[EvalRun]) -> list[dict]:
    """One row per (run, attribute): the attribute's full name, its sequence count, AUC per tracker."""
    rows = []
    for run in eval_runs:
        codes = sorted({a for r in run.reports.values() for a in r.get("per_attribute", {})})
        for code in codes:
            row = {"run": run.label, "dataset": run.dataset, "attribute": f"{attribute_name(code)} ({code})"}
            for tracker, r in run.reports.items():
                entry = r.get("per_attribute", {}).get(code)
                if entry:
                    row["sequences"] = entry["sequences"]
                    row[tracker] = entry["auc"]
            rows.append(row)
    return rows


def benchmark_markdown(table: dict) -> str:
    """One benchmark's section: its name, how it was scored, our rows, the published figures beside."""
    headers = table["headers"]
    rename = [{**{k: v for k, v in row.items() if k not in headers}, **{headers[k]: row.get(k) for k in headers}}
              for row in table["rows"]]
    columns = [headers.get(c, c) for c in table["columns"]]
    parts = [f"### {table['title']}", f"Scored by {table['scored_by']}.", *table["notes"],
             markdown_table(rename, columns)]
    if table["published"]:
        published = [{**{k: v for k, v in row.items() if k not in headers}, **{headers[k]: row.get(k) for k in headers}}
                     for row in table["published"]]
        parts += [f"**Published SiamFC figures on {table['title']}** (typed in from each source)",
                  markdown_table(published, [headers.get(c, c) for c in table["published_columns"]])]
    else:
        parts.append(f"No published SiamFC figure on {table['title']} is quoted here.")
    return "\n\n".join(parts)


def present_columns(rows: list[dict], columns: list[str]) -> list[str]:
    """``columns`` that at least one row holds (a sweep table of AO runs has no AUC column)."""
    return [c for c in columns if any(c in r for r in rows)]


def machine_rows(info: dict) -> list[dict]:
    """``machine()`` as (item, value) rows for a small table."""
    names = {"platform": "operating system", "python": "Python", "torch": "PyTorch", "cpu": "CPU",
             "cpu_count": "CPU cores", "torch_threads": "torch threads (this process)", "gpu": "GPU"}
    return [{"item": names.get(k, k), "value": v} for k, v in info.items()]


def sweep_rows(epoch_sweep: dict) -> list[dict]:
    """The last and the best epoch of each swept run as table rows."""
    keys = ("auc", "precision_20", "success_50", "ao", "sr_50", "sr_75")
    return [{"run": run, "which": which, "epoch": sweep[which]["epoch"],
             **{k: sweep[which][k] for k in keys if k in sweep[which]}}
            for run, sweep in epoch_sweep.items() for which in ("last", "best")]


TARGET_NAMES = {"otb2015_auc": "OTB2015 AUC", "otb2015_precision_20": "OTB2015 precision at 20 px",
                "train_pairs_per_s_h100": "training pairs/s on one H100", "track_fps_h100": "tracking frames/s on one H100"}


def target_rows(targets: dict) -> list[dict]:
    return [{"target": TARGET_NAMES.get(k, k), "value": v} for k, v in targets.items()]


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
        return str(v)

    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)
    return head + "\n" + "\n".join("| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows)
