"""Success and precision plots (OTB style: AUC and 20 px precision in the legend)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..evaluation.metrics import CE_THRESHOLDS, IOU_THRESHOLDS, PRECISION_INDEX, SequenceCurves


def _ranked(curves: Mapping[str, SequenceCurves], key) -> list[tuple[str, SequenceCurves]]:
    return sorted(curves.items(), key=lambda kv: -key(kv[1]))


def success_plot(curves: Mapping[str, SequenceCurves], title: str = "Success plots of OPE") -> Figure:
    fig = Figure(figsize=(5, 4), dpi=100)
    ax = fig.subplots()
    for name, c in _ranked(curves, lambda c: float(np.mean(c.success))):
        ax.plot(IOU_THRESHOLDS, c.success, label=f"{name} [{np.mean(c.success):.3f}]")
    ax.set(xlabel="Overlap threshold", ylabel="Success rate", xlim=(0, 1), ylim=(0, 1.05), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def precision_plot(curves: Mapping[str, SequenceCurves], title: str = "Precision plots of OPE") -> Figure:
    fig = Figure(figsize=(5, 4), dpi=100)
    ax = fig.subplots()
    for name, c in _ranked(curves, lambda c: float(c.precision[PRECISION_INDEX])):
        ax.plot(CE_THRESHOLDS, c.precision, label=f"{name} [{c.precision[PRECISION_INDEX]:.3f}]")
    ax.set(xlabel="Location error threshold (px)", ylabel="Precision", xlim=(0, 50), ylim=(0, 1.05), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def save_plots(curves: Mapping[str, SequenceCurves], out_dir: str | Path) -> dict[str, Path]:
    """``success_plots.png`` and ``precision_plots.png`` under ``out_dir`` (got10k's names)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"success": out_dir / "success_plots.png", "precision": out_dir / "precision_plots.png"}
    for key, fig in (("success", success_plot(curves)), ("precision", precision_plot(curves))):
        FigureCanvasAgg(fig)
        fig.savefig(paths[key])
    return paths
