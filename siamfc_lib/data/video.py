"""A user's video as a stream of RGB frames: a video file (FFmpeg, through PyAV) or a folder of images.

* Streaming: frames are decoded one at a time and handed on, so memory does not grow with the
  video's length (an hour of 1080p at 30 frames/s is 108,000 frames of 6 MB each).
* Rotation: phones store portrait video as landscape frames plus a display matrix; frames come
  out upright, the way players show them (FFmpeg's angle, counter-clockwise, in quarter turns).
* Time: each frame keeps its presentation time (``pts * time_base``, from the first frame), so a
  variable-frame-rate video keeps its timing; a frame without a timestamp gets one from the
  average rate. Image folders are numbered in natural order (``2.jpg`` before ``10.jpg``) and
  timed at ``image_fps``.
* Errors name the file and what to do: a missing path, a file FFmpeg cannot parse, a codec this
  FFmpeg lacks, no video stream, a folder without images, a ``start`` past the last frame.

Frames are numbered from 0 in decoding order, as FFmpeg and OpenCV count them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..paths import not_found
from .otb import read_rgb

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".wmv", ".flv", ".3gp")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
CONVERT_HINT = "convert it with FFmpeg, e.g. `ffmpeg -i INPUT -c:v libx264 -pix_fmt yuv420p OUTPUT.mp4`"


class VideoError(ValueError):
    """A video or image folder that cannot be read as asked; the message names the file and the fix."""


@dataclass(frozen=True)
class Frame:
    index: int           # 0-based position in the source
    time: float          # seconds since the source's first frame
    rgb: np.ndarray      # (H, W, 3) uint8, upright


@dataclass(frozen=True)
class VideoInfo:
    path: str
    kind: str            # "file" or "images"
    width: int           # as shown (after rotation)
    height: int
    fps: float           # average frame rate (image folders: the rate given)
    frames: int | None   # the container's own count (can be approximate), or the number of images
    codec: str           # FFmpeg's decoder name, or "images"
    rotation: int = 0    # quarter turns applied, in degrees counter-clockwise (FFmpeg's display matrix)

    def frames_from(self, start: int, count: int | None = None) -> int | None:
        """How many frames ``frames(start, count)`` should give, where the count is known."""
        if self.frames is None:
            return count
        left = max(0, self.frames - start)
        return min(left, count) if count is not None else left


def natural_key(name: str) -> list:
    """``frame2`` before ``frame10``: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def upright(rgb: np.ndarray, rotation: float) -> np.ndarray:
    """Turn a stored frame by FFmpeg's display angle (counter-clockwise degrees, nearest quarter turn)."""
    turns = int(round(float(rotation) / 90.0)) % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def past_the_end(path: str, start: int, count: int) -> VideoError:
    return VideoError(f"start_frame {start} is past the end of {path}: it has {count} frame(s), numbered 0 to "
                      f"{count - 1}; pass a smaller start_frame")


class ImageFolder:
    """A folder of images, one frame each, in natural order of their names."""

    def __init__(self, folder: Path, image_fps: float = 30.0):
        self.files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                            key=lambda p: natural_key(p.name))
        if not self.files:
            raise VideoError(f"{folder} holds no images ({', '.join(s[1:] for s in IMAGE_SUFFIXES)}): pass a folder "
                             "of frames, or a video file (mp4, avi, mov, mkv, webm)")
        self.fps = float(image_fps)
        first = read_rgb(self.files[0])
        self.info = VideoInfo(str(folder), "images", first.shape[1], first.shape[0], self.fps, len(self.files), "images")

    def frames(self, start: int = 0, count: int | None = None, threads: int = 0) -> Iterator[Frame]:
        if start >= len(self.files):
            raise past_the_end(self.info.path, start, len(self.files))
        stop = len(self.files) if count is None else min(len(self.files), start + count)
        for index in range(start, stop):
            yield Frame(index, index / self.fps, read_rgb(self.files[index]))

    def close(self) -> None:
        pass


class VideoFile:
    """A video file decoded by FFmpeg (PyAV); each ``frames()`` call opens its own decoder."""

    def __init__(self, path: Path):
        self.path = str(path)
        container = self._open()
        try:
            stream = self._stream(container)
            first = next(self._decode(container, stream), None)
            if first is None:
                raise VideoError(f"{self.path}: FFmpeg decoded no frame from its video stream; {CONVERT_HINT}")
            rgb = upright(first.to_ndarray(format="rgb24"), self._rotation(first))
            rate = stream.average_rate or stream.guessed_rate or 30
            self.info = VideoInfo(self.path, "file", rgb.shape[1], rgb.shape[0], float(rate),
                                  int(stream.frames) or None, stream.codec_context.name, self._rotation(first))
        finally:
            container.close()

    def _open(self):
        import av

        try:
            return av.open(self.path)
        except av.FFmpegError as exc:
            raise VideoError(f"cannot read {self.path} as a video: FFmpeg says {exc.strerror or exc!s}. Pass a video "
                             f"file (mp4, avi, mov, mkv, webm) or a folder of images; if it plays elsewhere, "
                             f"{CONVERT_HINT}") from None

    def _stream(self, container):
        if not container.streams.video:
            raise VideoError(f"{self.path} has no video stream (audio only?); pass a video file or a folder of images")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            import av

            raise VideoError(f"{self.path}: its video codec has no decoder in this FFmpeg (PyAV {av.__version__}); "
                             f"{CONVERT_HINT}")
        return stream

    def _decode(self, container, stream, threads: int = 0):
        import av

        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = max(0, int(threads))
        index = 0
        try:
            for frame in container.decode(stream):
                yield frame
                index += 1
        except av.FFmpegError as exc:
            raise VideoError(f"{self.path}: decoding stopped at frame {index}: FFmpeg says {exc.strerror or exc!s}; "
                             f"{CONVERT_HINT}") from None

    @staticmethod
    def _rotation(frame) -> int:
        return int(round(float(getattr(frame, "rotation", 0) or 0) / 90.0)) * 90 % 360

    def frames(self, start: int = 0, count: int | None = None, threads: int = 0) -> Iterator[Frame]:
        """Frames ``start`` .. ``start + count - 1``; the ones before ``start`` are decoded, not converted.

        ``threads``: FFmpeg's decoding threads (0: its own choice, one per core).
        """
        container = self._open()
        try:
            stream = self._stream(container)
            fallback_rate, origin, index = self.info.fps or 30.0, None, -1
            for index, frame in enumerate(self._decode(container, stream, threads)):
                stamp = frame.time if frame.time is not None else index / fallback_rate
                origin = stamp if origin is None else origin
                if index < start:
                    continue
                if count is not None and index >= start + count:
                    return
                yield Frame(index, float(stamp - origin), upright(frame.to_ndarray(format="rgb24"), self._rotation(frame)))
            if index < start:
                raise past_the_end(self.path, start, index + 1)
        finally:
            container.close()

    def close(self) -> None:
        pass


def open_video(path: str | Path, image_fps: float = 30.0) -> ImageFolder | VideoFile:
    """A video file or an image folder, checked: the errors above come here, before any tracking."""
    path = Path(path).expanduser()
    if not path.exists():
        raise not_found("video", path, "video")
    if path.is_dir():
        return ImageFolder(path, image_fps)
    return VideoFile(path)
