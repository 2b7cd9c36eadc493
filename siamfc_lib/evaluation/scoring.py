"""Scoring a run's saved results: ``report.json`` dictionaries and the curves behind them.

Written beside the results (see :mod:`.results` for the layout):

* ``report.json``: the primary tracker's report (exactly ``REPORT_KEYS`` for the OTB protocol;
  the other protocols' keys are in :data:`PROTOCOL_KEYS`);
* ``reports.json``: ``{tracker: report}`` for every tracker, side by side;
* ``curves.json``: ``{tracker: {success_curve, precision_curve}}`` for the plots (GOT-10k: its
  101-threshold success curve only; GOT-10k test: nothing, its boxes are hidden).

How a benchmark is scored is its protocol's (:mod:`.protocols`); the OTB family is scored here,
GOT-10k in :mod:`.got10k_scoring`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..io_utils import atomic_write_text
from .evaluated import Evaluation
from .got10k_scoring import evaluate_ao, evaluate_hidden
from .metrics import SequenceCurves, mean_curves, scores, sequence_curves, sequence_fps
from .protocols import Protocol, protocol as protocol_named
from .results import read_boxes, result_path, times_path

REPORT_KEYS = ("tracker", "dataset", "sequences", "frames", "auc", "precision_20", "success_50",
               "norm_precision", "fps", "per_sequence", "per_attribute")
PROTOCOL_KEYS = {"lasot": REPORT_KEYS[:8] + ("norm_precision_auc",) + REPORT_KEYS[8:],
                 "got10k": ("tracker", "dataset", "sequences", "frames", "ao", "sr_50", "sr_75", "fps", "per_sequence",
                            "per_attribute"),
                 "hidden": ("tracker", "dataset", "sequences", "frames", "fps", "scored_by", "per_sequence",
                            "per_attribute")}


def _round(x: float) -> float:
    return float(round(x, 6))


def _ope_sequence(run_dir, tracker: str, seq, proto: Protocol) -> tuple[SequenceCurves, float]:
    path = result_path(run_dir, tracker, seq.name, proto.layout)
    if not path.exists():
        raise FileNotFoundError(f"no result for {tracker} on {seq.name}: {path} (run the tracker first)")
    curves = sequence_curves(read_boxes(path), seq.gt, skip_nan_gt=proto.skip_nan_gt)
    tp = times_path(run_dir, tracker, seq.name, proto.layout)
    return curves, sequence_fps(np.loadtxt(tp, ndmin=1)) if tp.exists() else -1.0


def _ope_row(s: dict, extra: tuple[str, ...]) -> dict:
    return {k: _round(s[k]) for k in ("auc", "precision_20", "success_50") + extra}


def _attribute_table(by_attribute: dict[str, list[SequenceCurves]]) -> dict:
    out = {}
    for attr, cs in sorted(by_attribute.items()):
        sa = scores(mean_curves(cs))
        out[attr] = {"auc": _round(sa["auc"]), "precision_20": _round(sa["precision_20"]), "sequences": len(cs)}
    return out


def evaluate_ope(run_dir: str | Path, tracker: str, sequences: Iterable, dataset_name: str,
                 proto: Protocol) -> Evaluation:
    """The OTB family: per-sequence curves, every sequence weighted equally."""
    extra = ("norm_precision_auc",) if proto.name == "lasot" else ()
    per_seq, seq_curves, fps_values, by_attribute = {}, {}, [], {}
    for seq in sequences:
        c, fps = _ope_sequence(run_dir, tracker, seq, proto)
        if fps > 0:
            fps_values.append(fps)
        seq_curves[seq.name] = c
        per_seq[seq.name] = {**_ope_row(scores(c), extra), "fps": _round(fps), "frames": c.frames}
        for attr in seq.attributes:
            by_attribute.setdefault(attr, []).append(c)
    if not seq_curves:
        raise ValueError(f"no sequences to evaluate for {tracker}")
    overall = mean_curves(list(seq_curves.values()))
    s = scores(overall)
    report = {"tracker": tracker, "dataset": dataset_name, "sequences": len(seq_curves), "frames": overall.frames,
              **_ope_row(s, ()), "norm_precision": _round(s["norm_precision"]),
              **{k: _round(s[k]) for k in extra},
              "fps": _round(float(np.mean(fps_values))) if fps_values else -1.0,
              "per_sequence": per_seq, "per_attribute": _attribute_table(by_attribute)}
    return Evaluation(report, overall, seq_curves)


def evaluate_tracker(run_dir: str | Path, tracker: str, sequences: Iterable, dataset_name: str,
                     protocol: Protocol | str = "otb") -> Evaluation:
    """Score the saved results of ``tracker`` on ``sequences`` (objects with name, gt, attributes) by
    the benchmark's ``protocol`` (:mod:`.protocols`)."""
    proto = protocol if isinstance(protocol, Protocol) else protocol_named(protocol)
    if proto.ope:
        return evaluate_ope(run_dir, tracker, sequences, dataset_name, proto)
    return (evaluate_ao if proto.scored else evaluate_hidden)(run_dir, tracker, sequences, dataset_name, proto)


def write_reports(run_dir: str | Path, evaluations: dict[str, Evaluation], primary: str | None) -> None:
    """``report.json`` (primary tracker), ``reports.json`` (all) and ``curves.json``."""
    run_dir = Path(run_dir)
    reports = {name: ev.report for name, ev in evaluations.items()}
    if primary is not None and primary in reports:
        atomic_write_text(run_dir / "report.json", json.dumps(reports[primary], indent=2))
    atomic_write_text(run_dir / "reports.json", json.dumps(reports, indent=2))
    curves = {name: ev.curves_json() for name, ev in evaluations.items() if ev.curves_json()}
    atomic_write_text(run_dir / "curves.json", json.dumps(curves, indent=2))


def score_run(run_dir: str | Path, trackers: Sequence[str], sequences: Sequence, dataset_name: str,
              primary: str | None, protocol: Protocol | str = "otb") -> dict[str, Evaluation]:
    """Score the saved results of several trackers and write report.json / reports.json / curves.json."""
    evaluations = {name: evaluate_tracker(run_dir, name, sequences, dataset_name, protocol) for name in trackers}
    write_reports(run_dir, evaluations, primary)
    return evaluations


def columns_of(reports: dict[str, dict]) -> tuple[tuple[str, str], ...]:
    """The table columns for these reports: their protocol's (recognised by the keys they hold)."""
    first = next(iter(reports.values()), {})
    name = "got10k" if "ao" in first else "hidden" if "scored_by" in first else \
        "lasot" if "norm_precision_auc" in first else "otb"
    return protocol_named(name).columns


def report_table(reports: dict[str, dict]) -> str:
    """Markdown table of the headline numbers, one row per tracker, in the reports' protocol's columns."""
    columns = columns_of(reports)
    lines = ["| tracker | " + " | ".join(label for _, label in columns) + " | sequences | frames |",
             "|---" * (len(columns) + 3) + "|"]
    for name, r in reports.items():
        cells = [f"{r[k]:.1f}" if k == "fps" else f"{r[k]:.3f}" for k, _ in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {r['sequences']} | {r['frames']} |")
    return "\n".join(lines)
