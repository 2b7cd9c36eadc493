"""Frames written as a video that plays in a browser, and never half-written under its final name.

Codec: H.264 (``libx264``, yuv420p, ``+faststart`` so a browser starts playing before the end
arrives) in MP4, through PyAV, whose wheels bundle FFmpeg with libx264. The pinned
``opencv-contrib-python-headless`` cannot write H.264: its FFmpeg offers only the V4L2 hardware
encoder (``avc1`` fails without that device), and its ``mp4v`` (MPEG-4 part 2) plays in no
current browser. Where PyAV's FFmpeg lacks libx264, VP9 in WebM (``libvpx-vp9``: Chrome, Firefox,
Edge, Safari 14.1+) is written instead and ``codec`` says so. ``lossless=True`` writes FFV1 in
Matroska: exact pixels (tests compare decoded frames with the source), not for browsers.

The file is written under a hidden temporary name beside the final one and renamed when
:meth:`VideoWriter.finish` succeeds; any exception (Ctrl-C included) removes it instead.
Timestamps are kept (90 kHz clock), so a variable-frame-rate source stays in step.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

CLOCK = Fraction(1, 90000)
# (encoder, container format, suffix, pixel format, options), in order of preference.
BROWSER_CODECS = (
    ("libx264", "mp4", ".mp4", "yuv420p", {"preset": "veryfast", "crf": "23"}),
    ("libvpx-vp9", "webm", ".webm", "yuv420p", {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"}),
)
LOSSLESS_CODEC = ("ffv1", "matroska", ".mkv", "bgr0", {})


def available_encoder(lossless: bool = False) -> tuple[str, str, str, str, dict]:
    """The first encoder of the preference list this FFmpeg has; an error names what to install."""
    import av

    for choice in (LOSSLESS_CODEC,) if lossless else BROWSER_CODECS:
        try:
            av.codec.Codec(choice[0], "w")
            return choice
        except (av.FFmpegError, ValueError):
            continue
    raise RuntimeError(f"PyAV {av.__version__}'s FFmpeg has none of the encoders "
                       f"{[c[0] for c in BROWSER_CODECS]}: install PyAV's own wheel (`pip install --force-reinstall av`)")


def even_size(width: int, height: int, max_side: int | None = None) -> tuple[int, int]:
    """``(width, height)`` scaled down to ``max_side`` and rounded down to even numbers (yuv420p needs them)."""
    scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


class VideoWriter:
    """``write(rgb, time)`` frame by frame, then ``finish()``; use it as a context manager.

    ``path``'s suffix is replaced by the codec's own (``.mp4``, ``.webm``, ``.mkv``):
    :attr:`path` is where the video will be. ``fps`` is the nominal rate the encoder plans for;
    each frame's own time sets its timestamp.
    """

    def __init__(self, path: str | Path, width: int, height: int, fps: float = 30.0, lossless: bool = False,
                 threads: int = 0):
        import av

        if width % 2 or height % 2:
            raise ValueError(f"frame size must be even for the encoder, got {width}x{height} (see even_size)")
        self.encoder, self.format, suffix, pix_fmt, codec_options = available_encoder(lossless)
        self.path = Path(path).with_suffix(suffix)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial = self.path.with_name(f".{self.path.stem}.partial{suffix}")
        container_options = {"movflags": "+faststart"} if self.format == "mp4" else {}
        self.container = av.open(str(self.partial), "w", format=self.format, options=container_options)
        self.stream = self.container.add_stream(self.encoder, rate=Fraction(fps).limit_denominator(1001))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, pix_fmt
        self.stream.codec_context.time_base = CLOCK
        self.stream.codec_context.thread_count = max(0, int(threads))
        self.stream.options = dict(codec_options)
        self.size = (width, height)
        self.frames, self._last_pts, self.closed = 0, -1, False

    def write(self, rgb: np.ndarray, time: float) -> None:
        import av

        if rgb.shape[1::-1] != self.size:
            raise ValueError(f"frame is {rgb.shape[1]}x{rgb.shape[0]}, the video {self.size[0]}x{self.size[1]}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self._last_pts = max(self._last_pts + 1, int(round(time / CLOCK)))
        frame.time_base = CLOCK
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def finish(self) -> Path:
        """Flush, close and move the video to :attr:`path`."""
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        self.closed = True
        os.replace(self.partial, self.path)
        return self.path

    def abort(self) -> None:
        """Close and delete the partial file (nothing appears under the final name)."""
        if not self.closed:
            try:
                self.container.close()
            except Exception:  # noqa: BLE001 - the file goes anyway
                pass
            self.closed = True
        self.partial.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif not self.closed:
            self.finish()
