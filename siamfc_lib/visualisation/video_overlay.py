"""The annotated video's frames: the tracked box, frame number and time, and a confidence trace.

Drawn with OpenCV straight onto the frame (scaled to the video's size first), about a
millisecond at 720p, so drawing never slows tracking noticeably. Colours are RGB: the frames
are RGB from decode to encoder. The box is red over a white halo (as in the response viewer),
orange with "likely lost" where the confidence says so; the trace in the lower left shows the
last ``history`` frames' relative score against the lost threshold.
"""
from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from .. import boxes

RED, ORANGE, WHITE, BLACK, GREEN = (230, 30, 30), (255, 150, 0), (255, 255, 255), (0, 0, 0), (60, 220, 90)
SHIFT = 4                      # sub-pixel drawing: coordinates in 1/16 px
TRACE_TOP = 1.25               # the trace's vertical range is [0, TRACE_TOP] of the relative score


class VideoOverlay:
    """``draw(rgb, index, time, box, relative, lost)`` -> the annotated frame at ``out_size``."""

    def __init__(self, frame_size: tuple[int, int], out_size: tuple[int, int], lost_below: float,
                 history: int = 150):
        self.frame_size, self.out_size = frame_size, out_size            # (width, height) each
        self.scale = out_size[0] / frame_size[0], out_size[1] / frame_size[1]
        self.lost_below = lost_below
        self.history: deque[float] = deque(maxlen=history)
        self.font_scale = max(0.45, out_size[1] / 720 * 0.7)
        self.thickness = max(1, round(out_size[1] / 360))

    def _resized(self, rgb: np.ndarray) -> np.ndarray:
        if (rgb.shape[1], rgb.shape[0]) == self.out_size:
            return rgb.copy()
        return cv2.resize(rgb, self.out_size, interpolation=cv2.INTER_AREA)

    def _corners(self, box_otb) -> tuple[tuple[int, int], tuple[int, int]]:
        """Outer pixel edges of the box in the scaled frame, fixed point for ``cv2`` with ``SHIFT``."""
        x1, y1, x2, y2 = boxes.cxcywh_to_edges(boxes.otb_to_cxcywh(box_otb))
        sx, sy = self.scale
        # continuous edge coordinates: pixel i spans [i - 0.5, i + 0.5], so scale about -0.5
        pts = [((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5) for x, y in ((x1, y1), (x2, y2))]
        return tuple(tuple(int(round(v * (1 << SHIFT))) for v in p) for p in pts)

    def _text(self, img: np.ndarray, text: str, origin: tuple[int, int], colour) -> None:
        cv2.putText(img, text, origin, cv2.FONT_HERSHEY_SIMPLEX, self.font_scale, BLACK, self.thickness + 2, cv2.LINE_AA)
        cv2.putText(img, text, origin, cv2.FONT_HERSHEY_SIMPLEX, self.font_scale, colour, self.thickness, cv2.LINE_AA)

    def _trace(self, img: np.ndarray) -> None:
        w, h = self.out_size
        left, bottom, width, height = 8, h - 8, max(60, w * 2 // 5), max(30, h // 6)
        top = bottom - height
        panel = img[top:bottom, left:left + width]
        panel[...] = (panel * 0.45).astype(np.uint8)                    # darken behind the trace

        def y_of(value: float) -> int:
            return int(round(bottom - 1 - (height - 2) * min(max(value, 0.0), TRACE_TOP) / TRACE_TOP))

        cv2.line(img, (left, y_of(self.lost_below)), (left + width - 1, y_of(self.lost_below)), ORANGE, 1, cv2.LINE_AA)
        values = [v for v in self.history]
        if len(values) >= 2 and all(np.isfinite(values)):
            xs = np.linspace(left, left + width - 1, self.history.maxlen)[-len(values):]
            points = np.array([[int(x), y_of(v)] for x, v in zip(xs, values)], dtype=np.int32)
            cv2.polylines(img, [points], False, GREEN, self.thickness, cv2.LINE_AA)
        self._text(img, "confidence", (left + 4, top + int(18 * self.font_scale)), WHITE)

    def draw(self, rgb: np.ndarray, index: int, time: float, box_otb, relative: float, lost: bool) -> np.ndarray:
        img = self._resized(rgb)
        p1, p2 = self._corners(box_otb)
        colour = ORANGE if lost else RED
        cv2.rectangle(img, p1, p2, WHITE, self.thickness + 2, cv2.LINE_AA, SHIFT)
        cv2.rectangle(img, p1, p2, colour, self.thickness, cv2.LINE_AA, SHIFT)
        self.history.append(relative)
        score = f"score {relative:.2f}" if np.isfinite(relative) else "score -"
        line = f"frame {index}  {time:7.2f} s  {score}" + ("  likely lost" if lost else "")
        self._text(img, line, (8, int(28 * self.font_scale) + 4), ORANGE if lost else WHITE)
        self._trace(img)
        return img
