"""The fixed-shape tracking step on the device, eager or replayed from a CUDA graph.

One step = crop every scale of every frame (one ``grid_sample``) -> backbone (optionally
under bf16/fp16 autocast; the head stays fp32) -> correlation head -> upsample, penalise,
window, argmax (:func:`~siamfc_lib.tracking.response.locate_peaks`). Only ``(B, 3)``
integers come back to the host, so the host waits once per frame, to read them.

:class:`SequenceStep` feeds one sequence: its frame goes through a pinned uint8 buffer
(``non_blocking`` upload) into static device buffers, so the step can be captured once per
frame shape as a CUDA graph and replayed (the launch overhead of ~40 kernels is the cost at
this size). Any capture or replay failure falls back to eager and is kept in ``graph_error``.
"""
from __future__ import annotations

import numpy as np
import torch

from ..config.tracking import TrackerConfig
from ..devices import Capabilities, autocast, autocast_dtype, capabilities
from .confidence import map_scores
from .response import hann_window, locate_peaks, scale_penalties
from .search_crops import sample_pyramid

AMP_DTYPES = {None: None, "none": None, "fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def amp_dtype(amp: str | None) -> torch.dtype | None:
    if amp not in AMP_DTYPES:
        raise ValueError(f"amp must be one of {sorted(k for k in AMP_DTYPES if k)} or None, got {amp!r}")
    return AMP_DTYPES[amp]


class PyramidStep:
    """crop -> backbone -> head -> peak for B frames with S scales each; a pure tensor function."""

    def __init__(self, model: torch.nn.Module, cfg: TrackerConfig, device: torch.device,
                 amp: str | None = None, channels_last: bool = True, caps: Capabilities | None = None):
        self.model, self.cfg, self.device = model, cfg, device
        self.caps = caps or capabilities(device)
        self.amp = amp_dtype(amp)
        if self.amp is not None:    # a dtype this device cannot autocast to fails here, naming the fix
            autocast_dtype(self.caps.kind, "bf16" if self.amp == torch.bfloat16 else "fp16")
        if channels_last and not self.caps.channels_last:
            raise ValueError(f"channels_last is not supported on {self.caps.kind}: pass channels_last=False")
        self.channels_last = channels_last
        geo = cfg.geometry
        upsampled = geo.response_size(geo.instance_size) * cfg.response_up
        self.window = torch.from_numpy(hann_window(upsampled)).to(device)
        self.penalties = scale_penalties(cfg.scale_num, cfg.scale_penalty, device)

    def autocast(self):
        return autocast(self.caps.kind, self.amp, cache_enabled=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features in fp32 (exemplar or instances)."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with self.autocast():
            return self.model.backbone(x).float()

    def __call__(self, frames_u8: torch.Tensor, theta: torch.Tensor, pad: torch.Tensor,
                 kernels: torch.Tensor, frame_hw: torch.Tensor | None = None, with_scores: bool = False
                 ) -> torch.Tensor:
        """``kernels``: (1, C, k, k) shared by all, or (B*S, C, k, k) one per crop -> (B, 3) int64.

        ``with_scores``: (B, 5) float32 ``[scale, row, col, score, sharpness]`` instead (the
        indices are exact in float32), so one read-back brings the confidence too.
        """
        b, s = theta.shape[:2]
        x = sample_pyramid(frames_u8, theta, pad, self.cfg.geometry.instance_size, frame_hw, self.channels_last)
        raw = self.model.head(kernels, self.features(x))
        raw = raw.reshape(b, s, 1, raw.shape[-2], raw.shape[-1])
        peaks = locate_peaks(raw, self.window, self.penalties, self.cfg.response_up, self.cfg.window_influence)
        if not with_scores:
            return peaks
        return torch.cat([peaks.float(), map_scores(raw, peaks[:, 0])], dim=1)


class SequenceStep:
    """One sequence's step with static buffers; ``locate(frame, theta) -> (scale, row, col)``."""

    def __init__(self, step: PyramidStep, cuda_graphs: bool = True):
        self.step = step
        self.device = step.device
        self.caps = step.caps
        self.accelerator = self.device.type != "cpu"   # CUDA or NPU: upload into device buffers
        self.cuda_graphs = bool(cuda_graphs) and self.caps.cuda_graphs
        self.graph_error: str | None = None
        self._shape: tuple[int, ...] | None = None
        self._graph: torch.cuda.CUDAGraph | None = None
        self.kernel: torch.Tensor | None = None
        self.pad: torch.Tensor | None = None

    def set_target(self, kernel: torch.Tensor, pad_color: np.ndarray) -> None:
        """New exemplar features and padding colour, copied into the captured buffers."""
        pad = torch.as_tensor(np.asarray(pad_color, dtype=np.float32).reshape(1, 3), device=self.device)
        if self.kernel is not None and self.kernel.shape == kernel.shape:
            self.kernel.copy_(kernel)
            self.pad.copy_(pad)
        else:
            self.kernel, self.pad = kernel.clone(), pad
            self._shape, self._graph = None, None

    def _buffers(self, frame_shape: tuple[int, ...], theta_shape: tuple[int, ...]) -> None:
        pin = self.caps.pin_memory
        self.host_frame = torch.empty((1,) + frame_shape, dtype=torch.uint8, pin_memory=pin)
        self.host_theta = torch.empty(theta_shape, dtype=torch.float32, pin_memory=pin)
        self.frame = torch.empty_like(self.host_frame, device=self.device) if self.accelerator else self.host_frame
        self.theta = torch.empty_like(self.host_theta, device=self.device) if self.accelerator else self.host_theta
        self._shape, self._graph, self.out = frame_shape, None, None
        if self.cuda_graphs:
            self._capture()

    def _capture(self) -> None:
        try:
            self.frame.zero_()
            self.theta.zero_()
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                for _ in range(3):
                    self.step(self.frame, self.theta, self.pad, self.kernel, with_scores=True)
            torch.cuda.current_stream(self.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self.out = self.step(self.frame, self.theta, self.pad, self.kernel, with_scores=True)
            self._graph = graph
        except Exception as exc:  # noqa: BLE001 - any failure: run eagerly instead
            self.graph_error = f"{type(exc).__name__}: {exc}"
            self.cuda_graphs, self._graph, self.out = False, None, None

    def locate(self, frame_rgb: np.ndarray, theta: np.ndarray) -> tuple[int, int, int, float, float]:
        """``(scale, row, col, score, sharpness)`` of one frame, read back in one copy."""
        if self._shape != frame_rgb.shape:
            self._buffers(frame_rgb.shape, theta.shape)
        if self.accelerator:
            self.host_frame[0].numpy()[...] = frame_rgb
            self.host_theta.numpy()[...] = theta
            self.frame.copy_(self.host_frame, non_blocking=self.caps.non_blocking)
            self.theta.copy_(self.host_theta, non_blocking=self.caps.non_blocking)
        else:
            self.frame = torch.from_numpy(np.ascontiguousarray(frame_rgb))[None]
            self.theta = torch.from_numpy(theta)
        if self._graph is not None:
            self._graph.replay()
            out = self.out
        else:
            out = self.step(self.frame, self.theta, self.pad, self.kernel, with_scores=True)
        scale, row, col, score, sharpness = out[0].tolist()     # the one host sync per frame
        return int(scale), int(row), int(col), score, sharpness
