"""07_track_video's steps that touch the person at the keyboard: the demo's video, the box, the player.

In JupyterLab with ``box: None`` the first frame is shown in a picker
(:class:`~siamfc_lib.visualisation.box_picker.BoxPicker`) and the next cell takes the box drawn
on it; where no one can draw (papermill, CI) a missing box is an error naming ``-p box``.
"""
from __future__ import annotations

import os
from functools import partial
from typing import Any, Mapping

from ..data.video import Frame, open_video
from ..visualisation.box_picker import BoxPicker
from .first_box import HOW_TO_GIVE, parse_box
from .render import render_if_missing
from .run import rerun_commands


def someone_can_draw() -> bool:
    """A kernel that JupyterLab started (its server names the session); papermill's kernels have none."""
    return bool(os.environ.get("JPY_SESSION_NAME"))


def prepare_demo_video(otb_sequence: str | None, video: str, box) -> tuple[str, Any]:
    """``otb_sequence`` set (the demo): render it to ``video`` once, and take its first ground-truth
    box where ``box`` is None. Otherwise ``(video, box)`` unchanged."""
    if not otb_sequence:
        return video, box
    path, first_box = render_if_missing(otb_sequence, video)
    return str(path), box if box is not None else first_box


def first_frame(params: Mapping[str, Any]) -> Frame:
    """The frame the box belongs to (``start_frame``), read with the same checks as tracking."""
    source = open_video(params["video"], params.get("image_fps", 30.0))
    return next(iter(source.frames(int(params.get("start_frame") or 0), 1)))


def box_picker(params: Mapping[str, Any], frame: Frame) -> BoxPicker | None:
    """None when ``box`` is given; a picker in JupyterLab; an error where no one can draw."""
    if params.get("box") is not None:
        return None
    if not someone_can_draw():
        raise ValueError(f"box is None and nobody can draw it here (papermill or another headless run): "
                         f"{HOW_TO_GIVE}")
    return BoxPicker(frame.rgb, commands=partial(rerun_commands, dict(params)))


def chosen_box(box, picker: BoxPicker | None) -> list[float]:
    """The given box, else the one drawn on the picker; an error says what to do when there is none."""
    if box is not None:
        return parse_box(box)
    if picker is None or picker.box is None:
        raise ValueError("no box drawn yet: drag a box around the target on the frame above, then run this cell "
                         "and the ones below (Run > Run Selected Cell and All Below)")
    return picker.box


def summary_table(run) -> str:
    """Markdown: the run's key figures (the whole record is ``summary.json``)."""
    s = run.summary
    src = s["source"]
    rows = [("video", f"`{s['video']}` ({src['width']}x{src['height']}, {src['fps']:.3g} frames/s, codec {src['codec']}"
                      + (f", rotated {src['rotation']}°" if src["rotation"] else "") + ")"),
            ("frames tracked", f"{s['frames_tracked']} (frames {s['first_frame']} to {s['last_frame']})"),
            ("speed", f"{s['fps_tracker']} frames/s tracker alone, {s['fps_end_to_end']} end to end "
                      f"(decoding, drawing, encoding), device {s['device']}"),
            ("confidence", f"{s['confidence']['frames_likely_lost']} frame(s) likely lost (relative score below "
                           f"{s['confidence']['lost_below']}); median relative score {s['confidence']['median_relative']}"),
            ("annotated video", f"`{s['annotated_video']}` ({s['codec']})" if s["annotated_video"] else "not written"),
            ("files", ", ".join(f"`{v}`" for v in s["files"].values()) + f" in `{run.out_dir}`")]
    return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
