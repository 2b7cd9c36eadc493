"""``track_video``: the trained tracker on a user's video; 07_track_video and ``python -m siamfc_lib.track``.

One call opens the video (file or image folder), checks the first box, tracks frame by frame
with :class:`~siamfc_lib.tracking.tracker.SiamFCTracker` (the same tracker as the OTB runner,
so the boxes are the runner's on the same frames), keeps the confidence of every frame, and
writes, each atomically, under ``out_dir``:

* ``tracked.mp4``: the annotated video (box, frame number and time, confidence trace), H.264
  where PyAV's FFmpeg has it (:mod:`siamfc_lib.data.video_writer`);
* ``boxes.txt``: one 1-based OTB ``x,y,w,h`` line per tracked frame, the first being the given box;
* ``scores.csv``: per frame its source index, time, box, score, relative score, sharpness,
  scale (the box's size over the first box's) and the likely-lost mark;
* ``summary.json``: the video, the settings, frames, frame rates (tracker only, as got10k
  times it, and end to end), the codec written; ``confidence.png``; ``poster.jpg``.

Frames are decoded on a thread ahead of the tracker and the annotated video is drawn and encoded
on another behind it (:mod:`siamfc_lib.video.background`); memory holds a few frames, whatever
the video's length.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..config.core import build
from ..config.video import TrackVideoConfig
from ..data.video import Frame, VideoError, VideoInfo, open_video
from ..devices import resolve_device
from ..progress import Progress
from ..tracking.confidence import ConfidenceTrace
from ..tracking.tracker import SiamFCTracker
from ..deploy.backends import backend_label, network_for
from ..visualisation.response_viewer import ViewerData
from .annotated import AnnotatedVideo
from .first_box import check_first_box, parse_box
from .outputs import VideoRun, write_outputs


def video_config(params: Mapping[str, Any] | TrackVideoConfig) -> TrackVideoConfig:
    """Parameters -> config; ``box`` may be a list or a string (papermill ``-p box "[x, y, w, h]"``)."""
    if isinstance(params, TrackVideoConfig):
        return params
    params = dict(params)
    if params.get("box") is not None:
        params["box"] = parse_box(params["box"])
    return build(TrackVideoConfig, params, ignore=("progress",))


def make_tracker(cfg: TrackVideoConfig, model=None) -> SiamFCTracker:
    model = model if model is not None else network_for(cfg.checkpoint, cfg.backend, cfg.out_dir, cfg.providers)
    return SiamFCTracker(model, device=resolve_device(cfg.device))


def open_frames(cfg: TrackVideoConfig):
    """The source and its frames from ``start_frame`` (errors about the input come from here)."""
    source = open_video(cfg.video, cfg.image_fps)
    return source, source.frames(cfg.start_frame, cfg.max_frames, threads=cfg.decode_threads)


@dataclass
class _Tracked:
    indices: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    steps: list = field(default_factory=list)
    seconds: float = 0.0

    def add(self, frame: Frame, box: np.ndarray) -> None:
        self.indices.append(frame.index)
        self.times.append(frame.time)
        self.boxes.append(np.asarray(box, dtype=np.float64))


def _check_size(frame: Frame, first: Frame, path: str) -> None:
    if frame.rgb.shape != first.rgb.shape:
        raise VideoError(f"{path}: frame {frame.index} is {frame.rgb.shape[1]}x{frame.rgb.shape[0]}, the first "
                         f"{first.rgb.shape[1]}x{first.rgb.shape[0]}; the tracker needs one frame size "
                         "(resize the images, or re-encode the video at one size)")


OnFrame = Callable[[Frame, np.ndarray, float, bool], "bool | None"]


def _track_rest(tracker: SiamFCTracker, frames, first: Frame, cfg: TrackVideoConfig, trace: ConfidenceTrace,
                tracked: _Tracked, annotated: AnnotatedVideo | None, progress: Progress, path: str,
                on_frame: OnFrame | None) -> None:
    for frame in frames:
        _check_size(frame, first, path)
        tracker.record = len(tracked.steps) < cfg.viewer_frames
        start = time.perf_counter()
        box = tracker.update(frame.rgb)
        tracked.seconds += time.perf_counter() - start
        relative, lost = trace.add(*tracker.last_score)
        tracked.add(frame, box)
        if tracker.record:
            tracked.steps.append(tracker.last_step)
        if annotated is not None:
            annotated.put(frame, box, relative, lost)
        progress.update(1, 1)
        if on_frame is not None and on_frame(frame, box, relative, lost) is False:
            break
    tracker.record = False


def _viewer_data(info: VideoInfo, tracked: _Tracked, trace: ConfidenceTrace, first_index: int) -> ViewerData | None:
    if not tracked.steps:
        return None
    n = len(tracked.steps) + 1
    scores = np.concatenate([[1.0], trace.relative[: n - 1]])
    return ViewerData(Path(info.path).name, tracked.steps, np.asarray(tracked.boxes[:n]), None,
                      first_frame=first_index, scores=scores)


def track_video(params: Mapping[str, Any] | TrackVideoConfig, model=None, progress: bool | None = None,
                log: Callable[[str], None] = print, on_frame: OnFrame | None = None) -> VideoRun:
    """Track ``params.video`` from ``params.box``; outputs under ``params.out_dir`` (see the module doc).

    ``model`` overrides the checkpoint (tests, benchmarks). ``on_frame(frame, box, relative, lost)``
    after each tracked frame, in this thread; returning False stops there (what was tracked is
    kept). An interrupted run (an error, Ctrl-C) leaves no annotated video under its final name.
    """
    cfg = video_config(params)
    source, frames = open_frames(cfg)
    tracker = make_tracker(cfg, model)
    reader = _read_ahead(frames, cfg.read_ahead)
    annotated = None
    try:
        first = next(iter(reader))
        box = check_first_box(cfg.box, first.rgb.shape, first.index)
        wall = time.perf_counter()
        tracker.init(first.rgb, box)
        trace = ConfidenceTrace(tracker.first_frame_score(first.rgb), cfg.lost_below)
        tracked = _Tracked()
        tracked.add(first, box)
        if cfg.write_video:
            annotated = AnnotatedVideo(Path(cfg.out_dir) / "tracked.mp4", source.info, first, cfg)
            annotated.put(first, box, 1.0, False)
        bar = Progress(source.info.frames_from(cfg.start_frame, cfg.max_frames), desc=f"tracking {Path(source.info.path).name}", enabled=progress, unit="frame",
                       work_unit="frame", log=log)
        bar.update(1, 1)
        _track_rest(tracker, reader, first, cfg, trace, tracked, annotated, bar, source.info.path, on_frame)
        video, codec = annotated.finish() if annotated is not None else (None, None)
    except BaseException:
        if annotated is not None:
            annotated.abort()
        raise
    finally:
        reader.close()
    run = VideoRun(Path(cfg.out_dir), source.info, np.asarray(tracked.indices), np.asarray(tracked.times),
                   np.asarray(tracked.boxes).reshape(-1, 4), trace, tracked.seconds, time.perf_counter() - wall,
                   _viewer_data(source.info, tracked, trace, first.index),
                   backend_label(tracker.model, str(tracker.device)), video, codec)
    write_outputs(run, cfg, annotated.poster if annotated is not None else first.rgb)
    log(f"[track] {len(run.boxes)} frames of {source.info.path}: {run.summary['fps_tracker']} frames/s tracker, "
        f"{run.summary['fps_end_to_end']} end to end; {int(trace.lost.sum())} marked likely lost; outputs in {cfg.out_dir}"
        + (f" (video {video.name}, {codec})" if video else ""))
    return run


def _read_ahead(frames, depth: int):
    from .background import ReadAhead

    return ReadAhead(frames, depth) if depth > 0 else _InTurn(frames)


class _InTurn:
    """``read_ahead: 0``: decode each frame when the tracker asks for it."""

    def __init__(self, frames):
        self.frames = iter(frames)

    def __iter__(self):
        return self.frames

    def close(self) -> None:
        close = getattr(self.frames, "close", None)
        if close is not None:
            close()


def rerun_commands(params: Mapping[str, Any], box) -> list[str]:
    """The headless runs that repeat this one with ``box``: papermill, then the command line."""
    b = ", ".join(f"{v:g}" for v in parse_box(box))
    video, checkpoint, out = params.get("video"), params.get("checkpoint"), params.get("out_dir")
    keys = ("start_frame", "max_frames") + (("backend",) if params.get("backend", "torch") != "torch" else ())
    extra = "".join(f" -p {k} {params[k]}" for k in keys if params.get(k))
    cli_extra = "".join(f" --{k.replace('_', '-')} {params[k]}" for k in keys if params.get(k))
    return [f"papermill notebooks/07_track_video.ipynb out.ipynb -p video {video} -p box \"[{b}]\" "
            f"-p checkpoint {checkpoint} -p out_dir {out}{extra}",
            f"python -m siamfc_lib.track {video} --box {b.replace(' ', '')} --checkpoint {checkpoint} --out {out}"
            f"{cli_extra}"]
