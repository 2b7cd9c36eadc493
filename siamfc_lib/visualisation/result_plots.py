"""Figures of the results report (06_results) and of 05's sweep: attributes, epoch sweep, throughput.

Success and precision plots come from :mod:`.otb_plots`, training curves from
:mod:`.training_plots`. Each function returns the path of the PNG it wrote.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..data.otb_attributes import attribute_name
from ..evaluation.metrics import SequenceCurves
from .canvas import save_figure as _save


def curves_from_json(curves: dict[str, dict]) -> dict[str, SequenceCurves]:
    """``curves.json`` entries -> the objects the success/precision plots take."""
    return {name: SequenceCurves(np.asarray(c["success_curve"]), np.asarray(c["precision_curve"]),
                                 np.zeros(51), 0) for name, c in curves.items()}


def attribute_comparison(reports: dict[str, dict], path: str | Path) -> Path:
    """AUC per OTB attribute, one bar group per attribute, one bar per tracker."""
    attrs = sorted({a for r in reports.values() for a in r.get("per_attribute", {})})
    fig = Figure(figsize=(max(6, 1.1 * len(attrs) + 2), 4.8), dpi=100)
    ax = fig.subplots()
    width = 0.8 / max(1, len(reports))
    for i, (name, r) in enumerate(reports.items()):
        values = [r.get("per_attribute", {}).get(a, {}).get("auc", np.nan) for a in attrs]
        ax.bar(np.arange(len(attrs)) + i * width, values, width, label=name)
    labels = [f"{attribute_name(a)}\n({next((r['per_attribute'][a]['sequences'] for r in reports.values() if a in r.get('per_attribute', {})), 0)})"
              for a in attrs]
    ax.set_xticks(np.arange(len(attrs)) + width * (len(reports) - 1) / 2, labels, fontsize=8, rotation=30, ha="right")
    ax.set(ylabel="AUC", ylim=(0, 1), title="AUC per attribute (sequences with the attribute)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


SWEEP_LINES = {"auc": (("auc", "AUC"), ("precision_20", "precision@20")), "ao": (("ao", "AO"), ("sr_50", "SR0.5"))}


def epoch_sweep(sweep: dict, path: str | Path) -> Path:
    """The headline (AUC, or AO on GOT-10k) and a second score of every evaluated epoch, last and best marked."""
    epochs = sorted(int(e) for e in sweep["epochs"])
    rows = [sweep["epochs"][str(e)] if str(e) in sweep["epochs"] else sweep["epochs"][e] for e in epochs]
    key = sweep.get("selected_by", "auc")
    fig = Figure(figsize=(6, 3.8), dpi=100)
    ax = fig.subplots()
    for (k, label), marker in zip(SWEEP_LINES.get(key, SWEEP_LINES["auc"]), "os"):
        ax.plot(epochs, [r[k] for r in rows], marker=marker, label=label)
    best, last = sweep["best"], sweep["last"]
    how = "test-set selection" if sweep.get("test_set_selection", True) else "validation split"
    ax.scatter([best["epoch"]], [best[key]], s=120, facecolors="none", edgecolors="red",
               label=f"best by {key} ({how})")
    ax.axvline(last["epoch"], color="gray", ls="--", lw=1, label="last epoch")
    ax.set(xlabel="epoch", ylim=(0, 1), title="Epoch sweep")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def throughput_bars(rows: list[dict], path: str | Path) -> Path:
    """Training pairs/s per run (ours) beside the seed's reported figures, labelled by source."""
    fig = Figure(figsize=(8, 3.8), dpi=100)
    ax = fig.subplots()
    names = [r["name"] for r in rows if r.get("pairs_per_s")]
    values = [r["pairs_per_s"] for r in rows if r.get("pairs_per_s")]
    colors = ["tab:green" if r.get("measured_here") else "tab:gray" for r in rows if r.get("pairs_per_s")]
    ax.barh(names, values, color=colors)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,.0f}", va="center", fontsize=8)
    ax.set(xlabel="training pairs/s (green: measured by this run; gray: the seed's README)",
           title="Training throughput")
    ax.set_xscale("log")
    return _save(fig, path)
