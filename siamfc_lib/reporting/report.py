"""Write the results report: ``summary.json`` and its figures (what 06_results displays)."""
from __future__ import annotations

import json
from pathlib import Path

from ..io_utils import atomic_write_text
from ..visualisation import result_plots
from ..visualisation.otb_plots import save_plots
from ..visualisation.training_plots import training_curves
from .summary import build_summary
from .tracked_videos import load_tracked_videos, tracked_video_rows


def write_report(train_dirs: list[str], eval_dirs: list[str], out_dir: str | Path,
                 video_dirs: list[str] | None = None) -> tuple[dict, dict[str, Path]]:
    """Collect the runs, save every figure as PNG under ``out_dir``; returns (summary, figures).

    ``video_dirs``: 07_track_video output folders; their summaries go to ``summary["tracked_videos"]``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary, train_runs, eval_runs = build_summary(train_dirs, eval_dirs)
    videos, _ = load_tracked_videos(video_dirs or [])
    summary["tracked_videos"] = tracked_video_rows(videos)
    figures: dict[str, Path] = {}
    curves, reports = {}, {}
    for run in eval_runs:
        prefix = f"{run.run_dir.name}/" if len(eval_runs) > 1 else ""
        curves.update({prefix + k: v for k, v in run.curves.items()})
        reports.update({prefix + k: v for k, v in run.reports.items()})
        if run.sweep:
            sweep_curves = json.loads((run.run_dir / "sweep" / "curves.json").read_text())
            curves.update({prefix + k: v for k, v in sweep_curves.items()})
            figures[f"sweep_{run.run_dir.name}"] = result_plots.epoch_sweep(
                run.sweep, out_dir / f"epoch_sweep_{run.run_dir.name}.png")
    if curves:
        figures.update(save_plots(result_plots.curves_from_json(curves), out_dir))
    if reports:
        figures["attributes"] = result_plots.attribute_comparison(reports, out_dir / "attributes.png")
    if train_runs:
        figures["training"] = training_curves({r.label: r.metrics for r in train_runs},
                                                           out_dir / "training_curves.png")
    figures["throughput"] = result_plots.throughput_bars(summary["seed_comparison"], out_dir / "throughput.png")
    summary["figures"] = {k: p.name for k, p in figures.items()}
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=str))
    return summary, figures
