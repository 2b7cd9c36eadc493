"""The confidence of one tracked video over time: relative score and sharpness, lost frames marked."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..io_utils import atomic_write_bytes


def lost_spans(times: np.ndarray, lost: np.ndarray) -> list[tuple[float, float]]:
    """``[(start, end), ...]``: each run of lost frames, from its first frame's time to the next frame's."""
    times, lost = np.asarray(times, float), np.asarray(lost, bool)
    ends = np.append(times[1:], times[-1]) if len(times) else times
    edges = np.diff(np.concatenate([[0], lost.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(float(times[a]), float(ends[b])) for a, b in zip(starts, stops)]


def confidence_figure(times: np.ndarray, relative: np.ndarray, sharpness: np.ndarray, lost: np.ndarray,
                      lost_below: float, title: str, width_px: int = 900) -> Figure:
    """Two panels over time: score relative to the first frame (threshold line), and peak sharpness."""
    fig = Figure(figsize=(width_px / 100, width_px * 0.42 / 100), dpi=200)
    ax_rel, ax_sharp = fig.subplots(2, 1, sharex=True)
    for start, end in lost_spans(times, lost):
        for ax in (ax_rel, ax_sharp):
            ax.axvspan(start, end, color="orange", alpha=0.25, lw=0)
    ax_rel.plot(times, relative, color="tab:green", lw=1.2, label="score / first frame's")
    ax_rel.axhline(lost_below, color="orange", lw=1.0, ls="--", label=f"likely lost below {lost_below:g}")
    ax_rel.set_ylabel("relative score", fontsize=9)
    ax_rel.legend(loc="lower left", fontsize=8, framealpha=0.85)
    ax_rel.set_title(f"{title}: {int(np.sum(lost))} of {len(lost)} tracked frames marked likely lost (orange)",
                     fontsize=10)
    ax_sharp.plot(times, sharpness, color="tab:blue", lw=1.0)
    ax_sharp.set_ylabel("sharpness\n(peak-mean)/std", fontsize=9)
    ax_sharp.set_xlabel("time (s)", fontsize=9)
    for ax in (ax_rel, ax_sharp):
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save_confidence_plot(path: str | Path, times, relative, sharpness, lost, lost_below: float, title: str) -> Path:
    fig = confidence_figure(np.asarray(times, float), np.asarray(relative, float), np.asarray(sharpness, float),
                            np.asarray(lost, bool), lost_below, title)
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)
