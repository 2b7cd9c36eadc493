"""Scoring a run's saved results: ``report.json`` dictionaries and the curves behind them.

Written beside the results (see :mod:`.results` for the layout):

* ``report.json``: the primary tracker's report (exactly ``REPORT_KEYS``);
* ``reports.json``: ``{tracker: report}`` for every tracker, side by side;
* ``curves.json``: ``{tracker: {success_curve, precision_curve}}`` for the plots.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..io_utils import atomic_write_text
from .metrics import SequenceCurves, mean_curves, scores, sequence_curves, sequence_fps
from .results import read_boxes, result_path, times_path

REPORT_KEYS = ("tracker", "dataset", "sequences", "frames", "auc", "precision_20", "success_50",
               "norm_precision", "fps", "per_sequence", "per_attribute")


@dataclass
class Evaluation:
    """A tracker's report plus the curves behind it (for plots and comparisons)."""

    report: dict
    curves: SequenceCurves
    sequence_curves: dict[str, SequenceCurves] = field(default_factory=dict)


def _round(x: float) -> float:
    return float(round(x, 6))


def evaluate_tracker(run_dir: str | Path, tracker: str, sequences: Iterable, dataset_name: str) -> Evaluation:
    """Score the saved results of ``tracker`` on ``sequences`` (objects with name, gt, attributes)."""
    per_seq: dict[str, dict] = {}
    seq_curves: dict[str, SequenceCurves] = {}
    fps_values: list[float] = []
    by_attribute: dict[str, list[SequenceCurves]] = {}
    for seq in sequences:
        path = result_path(run_dir, tracker, seq.name)
        if not path.exists():
            raise FileNotFoundError(f"no result for {tracker} on {seq.name}: {path} (run the tracker first)")
        c = sequence_curves(read_boxes(path), seq.gt)
        tp = times_path(run_dir, tracker, seq.name)
        fps = sequence_fps(np.loadtxt(tp, ndmin=1)) if tp.exists() else -1.0
        if fps > 0:
            fps_values.append(fps)
        seq_curves[seq.name] = c
        s = scores(c)
        per_seq[seq.name] = {"auc": _round(s["auc"]), "precision_20": _round(s["precision_20"]),
                             "success_50": _round(s["success_50"]), "fps": _round(fps), "frames": c.frames}
        for attr in seq.attributes:
            by_attribute.setdefault(attr, []).append(c)
    if not seq_curves:
        raise ValueError(f"no sequences to evaluate for {tracker}")
    overall = mean_curves(list(seq_curves.values()))
    s = scores(overall)
    per_attr = {}
    for attr, cs in sorted(by_attribute.items()):
        sa = scores(mean_curves(cs))
        per_attr[attr] = {"auc": _round(sa["auc"]), "precision_20": _round(sa["precision_20"]), "sequences": len(cs)}
    report = {"tracker": tracker, "dataset": dataset_name, "sequences": len(seq_curves), "frames": overall.frames,
              "auc": _round(s["auc"]), "precision_20": _round(s["precision_20"]), "success_50": _round(s["success_50"]),
              "norm_precision": _round(s["norm_precision"]),
              "fps": _round(float(np.mean(fps_values))) if fps_values else -1.0,
              "per_sequence": per_seq, "per_attribute": per_attr}
    return Evaluation(report, overall, seq_curves)


def write_reports(run_dir: str | Path, evaluations: dict[str, Evaluation], primary: str | None) -> None:
    """``report.json`` (primary tracker), ``reports.json`` (all) and ``curves.json``."""
    run_dir = Path(run_dir)
    reports = {name: ev.report for name, ev in evaluations.items()}
    if primary is not None and primary in reports:
        atomic_write_text(run_dir / "report.json", json.dumps(reports[primary], indent=2))
    atomic_write_text(run_dir / "reports.json", json.dumps(reports, indent=2))
    curves = {name: {"success_curve": ev.curves.success.tolist(), "precision_curve": ev.curves.precision.tolist()}
              for name, ev in evaluations.items()}
    atomic_write_text(run_dir / "curves.json", json.dumps(curves, indent=2))


def score_run(run_dir: str | Path, trackers: Sequence[str], sequences: Sequence, dataset_name: str,
              primary: str | None) -> dict[str, Evaluation]:
    """Score the saved results of several trackers and write report.json / reports.json / curves.json."""
    evaluations = {name: evaluate_tracker(run_dir, name, sequences, dataset_name) for name in trackers}
    write_reports(run_dir, evaluations, primary)
    return evaluations


def report_table(reports: dict[str, dict]) -> str:
    """Markdown table of the headline numbers, one row per tracker."""
    lines = ["| tracker | AUC | prec@20 | success (IoU > 0.5) | norm prec | fps | sequences | frames |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in reports.items():
        lines.append(f"| {name} | {r['auc']:.3f} | {r['precision_20']:.3f} | {r['success_50']:.3f} | "
                     f"{r['norm_precision']:.3f} | {r['fps']:.1f} | {r['sequences']} | {r['frames']} |")
    return "\n".join(lines)
