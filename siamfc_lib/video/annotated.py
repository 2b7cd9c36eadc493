"""The annotated video, drawn and encoded on a thread behind the tracker; one frame is kept as the poster."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config.video import TrackVideoConfig
from ..data.video import Frame, VideoInfo
from ..data.video_writer import VideoWriter, even_size
from ..visualisation.video_overlay import VideoOverlay
from .background import WriteBehind


class AnnotatedVideo:
    """``put(frame, box, relative, lost)`` per tracked frame, then ``finish()`` (or ``abort()``)."""

    def __init__(self, path: Path, info: VideoInfo, first: Frame, cfg: TrackVideoConfig):
        height, width = first.rgb.shape[:2]
        out_w, out_h = even_size(width, height, cfg.video_max_side)
        self.writer = VideoWriter(path, out_w, out_h, fps=info.fps)
        self.overlay = VideoOverlay((width, height), (out_w, out_h), cfg.lost_below)
        expected = info.frames_from(cfg.start_frame, cfg.max_frames)
        self.poster_at = first.index + (expected // 3 if expected else 0)     # a third of the way in
        self.poster: np.ndarray | None = None
        self.origin = first.time            # the annotated video starts at 0 s with the first tracked frame
        self.behind = WriteBehind(self._draw, depth=max(2, cfg.read_ahead), name="annotated-video")

    def _draw(self, item) -> None:
        frame, box, relative, lost = item
        image = self.overlay.draw(frame.rgb, frame.index, frame.time, box, relative, lost)
        if self.poster is None or frame.index <= self.poster_at:
            self.poster = image
        self.writer.write(image, frame.time - self.origin)

    def put(self, frame: Frame, box, relative: float, lost: bool) -> None:
        self.behind.put((frame, np.asarray(box, dtype=np.float64), float(relative), bool(lost)))

    def finish(self) -> tuple[Path, str]:
        self.behind.finish()
        return self.writer.finish(), self.writer.encoder

    def abort(self) -> None:
        self.behind.abort()
        self.writer.abort()
