"""SiamFC-3s tracker (Bertinetto et al. 2016), separate from the trainer.

Per frame: three search crops around the previous centre (one batched forward pass),
bicubic x16 upsampling of the 17x17 maps, a penalty on the non-centre scales, a Hann window
on the chosen map, and a damped scale update with the search size clamped to
[min_scale, max_scale] times its first-frame value. Frames are RGB uint8 ``HxWx3``; boxes
in and out are 1-based OTB ``x, y, w, h`` (conversions via :mod:`siamfc_lib.boxes`).

Choices where the paper's code leaves room (documented here, tested in tests/test_tracker.py):
* the box's size follows the same clamped factor as the search region, so the box and the
  region never disagree;
* the centre is clipped to the frame, so a lost target cannot drift to infinity.

Two paths with the same meaning: on the CPU ("warp") crops are cut on the host and the maps
are post-processed with NumPy; on accelerators ("grid") the whole step runs on the device
(:mod:`siamfc_lib.tracking.device_step`, optionally a CUDA graph) and only the peak's
``(scale, row, col)`` comes back. Both feed :meth:`TrackState.move`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from ..config.tracking import TrackerConfig
from ..devices import Capabilities, Device, as_device, capabilities, set_current, synchronize, use_channels_last
from ..data.crops import crop_square
from ..data.video import open_video
from .confidence import map_score
from .sequence import track_sequence
from .device_step import PyramidStep, SequenceStep
from .response import hann_window, host_peak, scale_factors, upsample_bicubic
from .search_crops import crops_to_input, frame_to_device, grid_crops, pyramid_theta, warp_crops
from .state import TrackState


@dataclass
class TrackerStep:
    """What the response viewer shows for one frame (only kept when ``record=True``)."""

    search_crop: np.ndarray       # (255, 255, 3) uint8, the chosen scale's crop
    response: np.ndarray          # (272, 272) float32, normalised and windowed
    scale_index: int
    scale_factor: float
    crop_centre: tuple[float, float]   # 0-based (cx, cy) of the crop in the frame
    crop_size: float              # side of the crop in frame pixels


def placement(device: str | Device | torch.device | None) -> tuple[torch.device, Capabilities]:
    """Where tensors go, and what that device can do (asked of :mod:`siamfc_lib.devices` once the
    device is the current one, so no other card is opened)."""
    dev = as_device(device)
    set_current(dev)
    return dev.torch, capabilities(dev)


def crop_backend_for(caps: Capabilities, requested: str = "auto") -> str:
    """``requested`` ("warp" or "grid"), or for "auto" the device's own (warp on the CPU, grid elsewhere)."""
    backend = caps.crop_backend if requested == "auto" else requested
    if backend not in ("warp", "grid"):
        raise ValueError(f"crop_backend must be auto, warp or grid, got {requested!r}")
    return backend


class SiamFCTracker:
    """``init(frame, box)`` then ``update(frame) -> box``; ``track_frames`` for a sequence.

    ``crop_backend``: "auto" (warp on CPU, grid on accelerators), "warp" or "grid"; "grid"
    runs the whole step on the device (``record=True`` takes the host path, it needs crops).
    ``record=True`` keeps a :class:`TrackerStep` in ``last_step`` after each update.
    ``last_score``: ``(score, sharpness)`` of the chosen response map after each update, on both
    paths (:mod:`siamfc_lib.tracking.confidence`); it never changes the boxes.
    ``channels_last`` (None: where the device supports it): measured 1.2-1.7x faster on this
    project's 2-core CPU; NPUs accept only contiguous tensors.
    ``cuda_graphs`` (None: where the device has them) replays the device step as a graph.
    ``amp``: None (fp32) or "bf16"/"fp16" autocast for the backbone; the head stays fp32.
    """

    name = "SiamFC"

    def __init__(self, model: torch.nn.Module, cfg: TrackerConfig | None = None,
                 device: str | Device | torch.device | None = "cpu", crop_backend: str = "auto",
                 channels_last: bool | None = None, record: bool = False, name: str | None = None,
                 cuda_graphs: bool | None = None, amp: str | None = None):
        self.cfg = cfg or TrackerConfig()
        self.device, self.caps = placement(device)
        channels_last = use_channels_last(self.caps.kind, channels_last if channels_last is not None
                                          else getattr(model, "channels_last", None))   # exported: False
        self.crop_backend = crop_backend_for(self.caps, crop_backend)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = model.to(self.device).eval()
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.record = record
        if name:
            self.name = name
        geo = self.cfg.geometry
        self.response_size = geo.response_size(geo.instance_size)
        self.upsampled_size = self.response_size * self.cfg.response_up
        self.window = hann_window(self.upsampled_size)
        self.scales = scale_factors(self.cfg.scale_num, self.cfg.scale_step)
        self.pyramid = PyramidStep(self.model, self.cfg, self.device, amp, channels_last, self.caps)
        self.device_step = SequenceStep(self.pyramid, self.caps.cuda_graphs if cuda_graphs is None else cuda_graphs)
        self.state: TrackState | None = None
        self.last_step: TrackerStep | None = None
        self.last_score: tuple[float, float] | None = None

    # --- helpers -------------------------------------------------------------------------
    def _to_input(self, crops_hwc: np.ndarray) -> torch.Tensor:
        return crops_to_input(crops_hwc, self.device, self.memory_format)

    # --- public API ----------------------------------------------------------------------
    @torch.inference_mode()
    def init(self, frame_rgb: np.ndarray, box_otb: Sequence[float]) -> None:
        """Exemplar from the first frame: context 0.5, 127 crop, mean-colour padding."""
        self.state = TrackState.start(frame_rgb, box_otb, self.cfg)
        st, geo = self.state, self.cfg.geometry
        z = crop_square(frame_rgb, *st.centre, st.exemplar_side, geo.exemplar_size, st.pad_color)
        self.kernel = self.pyramid.features(self._to_input(z[None]))
        self.pad_color_t = torch.as_tensor(st.pad_color, dtype=torch.float32, device=self.device)
        if self.crop_backend == "grid":
            self.device_step.set_target(self.kernel, st.pad_color)

    def _search_input(self, frame_rgb: np.ndarray, sides: np.ndarray) -> tuple[torch.Tensor, np.ndarray | None]:
        size = self.cfg.geometry.instance_size
        cx, cy = self.state.centre
        if self.crop_backend == "warp":
            crops = warp_crops(frame_rgb, cx, cy, sides, size, self.state.pad_color)
            return self._to_input(crops), crops
        frame_t = frame_to_device(frame_rgb, self.device)
        x = grid_crops(frame_t, cx, cy, sides, size, self.pad_color_t)
        return x.contiguous(memory_format=self.memory_format), None

    @torch.inference_mode()
    def responses(self, frame_rgb: np.ndarray) -> tuple[torch.Tensor, np.ndarray | None, np.ndarray]:
        """Raw (S, 1, 17, 17) maps of all scales from ONE batched forward pass (host path)."""
        sides = self.state.search_side * self.scales
        x, crops = self._search_input(frame_rgb, sides)
        return self.model.head(self.kernel, self.pyramid.features(x)), crops, sides

    @torch.inference_mode()
    def update(self, frame_rgb: np.ndarray) -> np.ndarray:
        """Track one frame; returns the 1-based OTB box."""
        if self.crop_backend == "grid" and not self.record:
            return self._update_on_device(frame_rgb)
        cfg, geo, st = self.cfg, self.cfg.geometry, self.state
        raw, crops, sides = self.responses(frame_rgb)
        up = upsample_bicubic(raw, cfg.response_up).cpu().numpy()
        best, response, row, col = host_peak(up, self.window, cfg.scale_penalty, cfg.window_influence)
        self.last_score = map_score(raw[best].float().cpu().numpy())
        if self.record:
            crop = crops[best] if crops is not None else crop_square(
                frame_rgb, *st.centre, float(sides[best]), geo.instance_size, st.pad_color)
            self.last_step = TrackerStep(crop, response.astype(np.float32), best, float(self.scales[best]),
                                         (float(st.centre[0]), float(st.centre[1])), float(sides[best]))
        return st.move(best, int(row), int(col), sides, self.scales, cfg)

    def _update_on_device(self, frame_rgb: np.ndarray) -> np.ndarray:
        st = self.state
        sides = st.search_side * self.scales
        theta = pyramid_theta(st.centre[None], sides[None], frame_rgb.shape[:2], self.cfg.geometry.instance_size)
        best, row, col, score, sharpness = self.device_step.locate(frame_rgb, theta)
        self.last_score = (score, sharpness)
        return st.move(best, row, col, sides, self.scales, self.cfg)

    @torch.inference_mode()
    def first_frame_score(self, frame_rgb: np.ndarray) -> float:
        """After ``init``: the exemplar's score on its own frame (centre scale), where the box is known.

        The reference of :class:`~siamfc_lib.tracking.confidence.ConfidenceTrace`; one extra
        forward pass, and the state is not moved.
        """
        raw, _, _ = self.responses(frame_rgb)
        return map_score(raw[(len(self.scales) - 1) // 2].float().cpu().numpy())[0]

    def track_frames(self, frames: Iterable[np.ndarray | str | Path], box_otb: Sequence[float]
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Track frames (RGB arrays or image paths) from ``box_otb``: see ``track_sequence``."""
        return track_sequence(self, frames, box_otb, sync=self._sync)

    def _sync(self) -> None:
        synchronize(as_device(self.device))

    def track_video(self, path: str | Path, box_otb: Sequence[float], max_frames: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Track a video file or image folder, streamed (:mod:`siamfc_lib.data.video`: upright, RGB).

        For annotated videos, scores and the other outputs: :func:`siamfc_lib.video.run.track_video`.
        """
        return self.track_frames((f.rgb for f in open_video(path).frames(0, max_frames)), box_otb)
