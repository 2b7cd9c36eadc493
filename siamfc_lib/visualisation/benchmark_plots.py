"""Each benchmark's own plots: success and precision (the OTB family), or GOT-10k's success curve.

Curves come as ``curves.json`` entries (``{tracker: {"success_curve": [...], ...}}``) with the
reports beside them, so 05 and 06 plot the same way from what a run wrote. The legend holds the
protocol's headline: AUC and precision at 20 px, or AO (from the report, as got10k's plot does).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .canvas import save_figure
from .otb_plots import save_plots
from .result_plots import curves_from_json


def ao_plot(curves: dict[str, dict], reports: dict[str, dict], title: str) -> Figure:
    """Success rate over GOT-10k's 101 IoU thresholds, trackers ranked by AO."""
    fig = Figure(figsize=(5, 4), dpi=100)
    ax = fig.subplots()
    for name in sorted(curves, key=lambda n: -reports.get(n, {}).get("ao", 0.0)):
        curve = np.asarray(curves[name]["success_curve"])
        ax.plot(np.linspace(0, 1, len(curve)), curve, label=f"{name} [AO {reports.get(name, {}).get('ao', np.nan):.3f}]")
    ax.set(xlabel="Overlap threshold", ylabel="Success rate", xlim=(0, 1), ylim=(0, 1.05), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def save_benchmark_plots(curves: dict[str, dict], reports: dict[str, dict], out_dir: str | Path,
                         label: str = "", suffix: str = "") -> dict[str, Path]:
    """``{"success": png, "precision": png}`` (OTB family) or ``{"success": png}`` (GOT-10k) under
    ``out_dir``; nothing for a benchmark with hidden boxes. ``suffix`` keeps several benchmarks apart."""
    out_dir = Path(out_dir)
    if not curves:
        return {}
    if all("precision_curve" in c for c in curves.values()):
        return save_plots(curves_from_json(curves), out_dir, label, suffix)
    title = f"Success plots on {label}" if label else "Success plots"
    return {"success": save_figure(ao_plot(curves, reports, title), out_dir / f"success_plot{suffix}.png", tight=False)}
