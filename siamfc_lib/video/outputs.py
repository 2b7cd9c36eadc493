"""A tracked video's files: boxes (OTB results format), per-frame scores, summary, plot and poster.

``boxes.txt`` is written exactly as the OTB runner writes ``results/<Tracker>/<Seq>.txt``
(``%.3f``, comma-separated), so the two compare byte for byte on the same frames.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..config.core import to_dict
from ..config.video import TrackVideoConfig
from ..data.video import VideoInfo
from ..io_utils import atomic_write_bytes, atomic_write_text
from ..tracking.confidence import ConfidenceTrace
from ..visualisation.confidence_plot import save_confidence_plot
from ..visualisation.response_viewer import ViewerData

SCORE_COLUMNS = ("frame", "time_s", "x", "y", "w", "h", "score", "relative", "sharpness", "scale", "lost")


@dataclass
class VideoRun:
    """What one tracked video left behind (arrays: one entry per tracked frame, the first included)."""

    out_dir: Path
    info: VideoInfo
    indices: np.ndarray
    times: np.ndarray
    boxes: np.ndarray
    trace: ConfidenceTrace
    seconds_tracking: float
    seconds_total: float
    viewer: ViewerData | None = None
    device: str = ""
    video: Path | None = None
    codec: str | None = None
    files: dict[str, Path] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def boxes_text(boxes_otb: np.ndarray) -> str:
    buf = io.StringIO()
    np.savetxt(buf, boxes_otb, fmt="%.3f", delimiter=",")
    return buf.getvalue()


def score_rows(run: VideoRun) -> np.ndarray:
    """(N, 11) per frame; the first frame's score is the reference (relative 1), its sharpness not measured."""
    trace, n = run.trace, len(run.boxes)
    first_area = float(run.boxes[0, 2] * run.boxes[0, 3])
    scale = np.sqrt(run.boxes[:, 2] * run.boxes[:, 3] / first_area)
    score = np.concatenate([[trace.reference], trace.scores])
    relative = np.concatenate([[1.0], trace.relative])
    sharpness = np.concatenate([[np.nan], trace.sharpness])
    lost = np.concatenate([[False], trace.lost]).astype(float)
    return np.column_stack([run.indices, run.times, run.boxes, score, relative, sharpness, scale, lost]).reshape(n, -1)


def scores_csv(run: VideoRun) -> str:
    buf = io.StringIO()
    fmt = ["%d", "%.4f", "%.3f", "%.3f", "%.3f", "%.3f", "%.4f", "%.4f", "%.4f", "%.4f", "%d"]
    np.savetxt(buf, score_rows(run), fmt=fmt, delimiter=",", header=",".join(SCORE_COLUMNS), comments="")
    return buf.getvalue()


def summary_of(run: VideoRun, cfg: TrackVideoConfig) -> dict:
    n, trace = len(run.boxes), run.trace
    relative = trace.relative
    return {
        "video": run.info.path, "source": {k: v for k, v in vars(run.info).items() if k != "path"},
        "settings": to_dict(cfg), "device": run.device, "frames_tracked": n,
        "first_frame": int(run.indices[0]), "last_frame": int(run.indices[-1]),
        "fps_tracker": round((n - 1) / run.seconds_tracking, 2) if run.seconds_tracking > 0 else None,
        "fps_end_to_end": round(n / run.seconds_total, 2) if run.seconds_total > 0 else None,
        "seconds_tracker": round(run.seconds_tracking, 3), "seconds_end_to_end": round(run.seconds_total, 3),
        "confidence": {"reference_score": round(trace.reference, 4), "lost_below": trace.lost_below,
                       "frames_likely_lost": int(trace.lost.sum()),
                       "median_relative": round(float(np.nanmedian(relative)), 4) if np.isfinite(relative).any() else None},
        "annotated_video": run.video.name if run.video else None, "codec": run.codec,
        "files": {k: p.name for k, p in run.files.items()},
    }


def write_outputs(run: VideoRun, cfg: TrackVideoConfig, poster_rgb: np.ndarray) -> None:
    """Every file under ``run.out_dir`` (atomically); fills ``run.files`` and ``run.summary``."""
    out = Path(run.out_dir)
    files = {"boxes": out / "boxes.txt", "scores": out / "scores.csv", "summary": out / "summary.json",
             "confidence_plot": out / "confidence.png", "poster": out / "poster.jpg"}
    atomic_write_text(files["boxes"], boxes_text(run.boxes))
    atomic_write_text(files["scores"], scores_csv(run))
    times = run.times[1:] if len(run.times) > 1 else run.times
    save_confidence_plot(files["confidence_plot"], times, run.trace.relative, run.trace.sharpness, run.trace.lost,
                         run.trace.lost_below, Path(run.info.path).name)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(poster_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    atomic_write_bytes(files["poster"], jpeg.tobytes())
    if run.video is not None:
        files["video"] = run.video
    run.files = files
    run.summary = summary_of(run, cfg)
    atomic_write_text(files["summary"], json.dumps(run.summary, indent=2))
