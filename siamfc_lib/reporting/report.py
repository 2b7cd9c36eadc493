"""Write the results report: ``summary.json`` and its figures (what 06_results displays)."""
from __future__ import annotations

import json
from pathlib import Path

from ..io_utils import atomic_write_text
from ..visualisation import result_plots
from ..visualisation.benchmark_plots import save_benchmark_plots
from ..visualisation.canvas import shown
from ..visualisation.training_plots import training_curves
from .summary import build_summary
from .tracked_videos import load_tracked_videos, tracked_video_rows


def figure_key(benchmark: str, kind: str) -> str:
    """OTB2015's plots keep their names (``success``, ``precision``); other benchmarks' are prefixed."""
    return kind if benchmark == "otb2015" else f"{benchmark}_{kind}"


def _benchmark_figures(summary: dict, eval_runs: list, out_dir: Path) -> dict[str, Path]:
    """Each benchmark's success (and precision) plot over every run that evaluated it."""
    figures: dict[str, Path] = {}
    for table in summary["benchmarks"]:
        key = table["benchmark"]
        runs = [run for run in eval_runs if run.benchmark == key]
        prefix = (lambda run: f"{run.label}/") if len(runs) > 1 else (lambda run: "")
        curves, reports = {}, {}
        for run in runs:
            curves.update({prefix(run) + k: v for k, v in run.curves.items()})
            reports.update({prefix(run) + k: v for k, v in run.reports.items()})
            if run.sweep and (run.run_dir / "sweep" / "curves.json").exists():
                curves.update({prefix(run) + k: v for k, v in
                               json.loads((run.run_dir / "sweep" / "curves.json").read_text()).items()})
                reports.update({prefix(run) + k: v for k, v in
                                json.loads((run.run_dir / "sweep" / "reports.json").read_text()).items()})
        suffix = "" if key == "otb2015" else f"_{key}"
        plots = save_benchmark_plots(curves, reports, out_dir, table["title"], suffix)
        table["figures"] = {kind: path.name for kind, path in plots.items()}
        figures.update({figure_key(key, kind): path for kind, path in plots.items()})
    return figures


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
    figures = _benchmark_figures(summary, eval_runs, out_dir)
    reports = {}
    for run in eval_runs:
        prefix = f"{run.label}/" if len(eval_runs) > 1 else ""
        reports.update({prefix + k: v for k, v in run.reports.items()})
        if run.sweep:
            name = run.label.replace("/", "_")
            figures[f"sweep_{run.label}"] = result_plots.epoch_sweep(run.sweep, out_dir / f"epoch_sweep_{name}.png")
    if any(r.get("per_attribute") for r in reports.values()):
        figures["attributes"] = result_plots.attribute_comparison(reports, out_dir / "attributes.png")
    if train_runs:
        figures["training"] = training_curves({r.label: r.metrics for r in train_runs},
                                              out_dir / "training_curves.png")
    figures["throughput"] = result_plots.throughput_bars(summary["seed_comparison"], out_dir / "throughput.png")
    summary["figures"] = {k: p.name for k, p in figures.items()}
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=str))
    return summary, figures


# What each figure shows, for readers of the HTML report who do not see it (its alt text).
FIGURE_TEXT = {
    "success": "Success plots of one-pass evaluation: success rate over overlap thresholds, AUC in the legend",
    "precision": "Precision plots of one-pass evaluation: precision over location-error thresholds, 20 px value "
                 "in the legend",
    "attributes": "AUC per OTB attribute, one bar per tracker",
    "training": "Training curves: loss, validation loss, learning rate and pairs per second per epoch",
    "throughput": "Training throughput in pairs per second: this project's runs beside the seed's reported figures",
}


def figure_text(key: str) -> str:
    """What figure ``key`` shows (a benchmark's plots are ``<benchmark>_success`` and ``_precision``)."""
    if key in FIGURE_TEXT:
        return FIGURE_TEXT[key]
    if key.startswith("sweep_"):
        return f"Epoch sweep of {key[6:]}: AUC and precision per epoch, last and best marked"
    for kind in ("success", "precision"):
        if key.endswith(f"_{kind}"):
            return f"{FIGURE_TEXT[kind]} ({key[:-len(kind) - 1]})"
    return key


def figure(figures: dict[str, Path], key: str):
    """``figures[key]`` ready for ``display``, with its description as the image's alt text."""
    return shown(figures[key], figure_text(key))
