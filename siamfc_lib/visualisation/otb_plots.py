"""Success and precision plots (OTB style: AUC and 20 px precision in the legend)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib.figure import Figure

from ..evaluation.metrics import CE_THRESHOLDS, IOU_THRESHOLDS, PRECISION_INDEX, SequenceCurves
from .canvas import save_figure


def _ranked(curves: Mapping[str, SequenceCurves], key) -> list[tuple[str, SequenceCurves]]:
    return sorted(curves.items(), key=lambda kv: -key(kv[1]))


def _curve_plot(curves: Mapping[str, SequenceCurves], x: np.ndarray, curve_of, score_of, xlabel: str,
                ylabel: str, xlim: tuple[float, float], title: str, legend_loc: str) -> Figure:
    fig = Figure(figsize=(5, 4), dpi=100)
    ax = fig.subplots()
    for name, c in _ranked(curves, score_of):
        ax.plot(x, curve_of(c), label=f"{name} [{score_of(c):.3f}]")
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=(0, 1.05), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc=legend_loc, fontsize=8)
    fig.tight_layout()
    return fig


def success_plot(curves: Mapping[str, SequenceCurves], title: str = "Success plots of OPE") -> Figure:
    """Success rate over the 21 IoU thresholds; the legend holds the AUC."""
    return _curve_plot(curves, IOU_THRESHOLDS, lambda c: c.success, lambda c: float(np.mean(c.success)),
                       "Overlap threshold", "Success rate", (0, 1), title, "lower left")


def precision_plot(curves: Mapping[str, SequenceCurves], title: str = "Precision plots of OPE") -> Figure:
    """Precision over the 0..50 px centre-error thresholds; the legend holds the 20 px value."""
    return _curve_plot(curves, CE_THRESHOLDS, lambda c: c.precision, lambda c: float(c.precision[PRECISION_INDEX]),
                       "Location error threshold (px)", "Precision", (0, 50), title, "lower right")


def save_plots(curves: Mapping[str, SequenceCurves], out_dir: str | Path, label: str = "",
               suffix: str = "") -> dict[str, Path]:
    """``success_plots.png`` and ``precision_plots.png`` under ``out_dir`` (got10k's names);
    ``label`` names the data set in the titles, ``suffix`` goes before ``.png``."""
    out_dir = Path(out_dir)
    on = f" on {label}" if label else ""
    return {"success": save_figure(success_plot(curves, f"Success plots of OPE{on}"),
                                   out_dir / f"success_plots{suffix}.png", tight=False),
            "precision": save_figure(precision_plot(curves, f"Precision plots of OPE{on}"),
                                     out_dir / f"precision_plots{suffix}.png", tight=False)}
