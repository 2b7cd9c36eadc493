"""Evaluation mode: many sequences tracked in lockstep, one device step for all of them.

Each slot holds one sequence (its exemplar features, :class:`TrackState` and next frame).
Every step cuts all scales of all active frames in one ``grid_sample`` (frames of different
sizes share a top-left aligned canvas, the rest masked as padding), runs one backbone pass
over B x S crops, correlates each crop with its own sequence's exemplar (grouped conv) and
locates every peak on the device; a (B, 3) integer tensor is the only thing read back.
A sequence that ends leaves its slot, which the next waiting sequence takes.

Timing (got10k's per-frame times): a step's wall time is divided equally among the
sequences active in it; frame 0's time is that sequence's ``init`` (exemplar) call.
Image decoding is not timed, as in got10k. Boxes equal sequential tracking to float
tolerance (tests/test_batched_tracking.py).
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from ..config.tracking import TrackerConfig
from ..data.crops import crop_square
from ..data.otb import read_rgb
from .device_step import PyramidStep
from .response import scale_factors
from .search_crops import pyramid_theta
from .state import TrackState
from .tracker import placement, use_channels_last

Frame = np.ndarray | str | Path


@dataclass
class _Slot:
    index: int
    frames: Sequence[Frame]
    state: TrackState
    kernel: torch.Tensor
    boxes: list[np.ndarray] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return len(self.boxes) >= len(self.frames)


def _image(frame: Frame) -> np.ndarray:
    return read_rgb(frame) if isinstance(frame, (str, Path)) else frame


class BatchedSiamFC:
    """``track_many([(frames, box), ...])`` yields ``(index, boxes, times)`` as sequences finish."""

    name = "SiamFC"

    def __init__(self, model: torch.nn.Module, cfg: TrackerConfig | None = None, device=None,
                 batch_size: int = 16, channels_last: bool | None = None, amp: str | None = None,
                 name: str | None = None):
        self.cfg = cfg or TrackerConfig()
        self.device, self.caps = placement(device)
        channels_last = use_channels_last(self.caps.kind, channels_last)
        self.batch_size = max(1, int(batch_size))
        self.model = model.to(self.device).eval()
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.pyramid = PyramidStep(self.model, self.cfg, self.device, amp, channels_last, self.caps)
        self.scales = scale_factors(self.cfg.scale_num, self.cfg.scale_step)
        self._canvas: torch.Tensor | None = None
        if name:
            self.name = name

    def _start(self, index: int, frames: Sequence[Frame], box_otb: Sequence[float]) -> _Slot:
        image = _image(frames[0])
        start = time.perf_counter()
        state = TrackState.start(image, box_otb, self.cfg)
        geo = self.cfg.geometry
        z = crop_square(image, *state.centre, state.exemplar_side, geo.exemplar_size, state.pad_color)
        z_t = torch.from_numpy(z[None]).to(self.device).permute(0, 3, 1, 2).float()
        kernel = self.pyramid.features(z_t)
        if self.device.type != "cpu":
            kernel.sum().item()       # wait, so the init time is the real one
        slot = _Slot(index, frames, state, kernel)
        slot.times.append(time.perf_counter() - start)
        slot.boxes.append(np.asarray(box_otb, dtype=np.float64))
        return slot

    def _host_canvas(self, shape: tuple[int, ...]) -> torch.Tensor:
        """Reused (pinned on CUDA) uint8 canvas; its uncovered parts are masked, never read."""
        if self._canvas is None or tuple(self._canvas.shape) != shape:
            self._canvas = torch.empty(shape, dtype=torch.uint8, pin_memory=self.caps.pin_memory)
        return self._canvas

    def _step(self, slots: list[_Slot], images: list[np.ndarray], kernels: torch.Tensor) -> list[np.ndarray]:
        sizes = np.array([im.shape[:2] for im in images])
        hc, wc = (int(v) for v in sizes.max(axis=0))
        canvas = self._host_canvas((len(images), hc, wc, 3))
        canvas_np = canvas.numpy()
        for i, im in enumerate(images):
            canvas_np[i, :im.shape[0], :im.shape[1]] = im
        sides = np.stack([s.state.search_side * self.scales for s in slots])
        centres = np.stack([s.state.centre for s in slots])
        theta = torch.from_numpy(pyramid_theta(centres, sides, (hc, wc), self.cfg.geometry.instance_size))
        pad = torch.from_numpy(np.stack([s.state.pad_color for s in slots]).astype(np.float32))
        same_size = bool((sizes == sizes[0]).all()) and (hc, wc) == tuple(sizes[0])
        frame_hw = None if same_size else torch.from_numpy(sizes.astype(np.int64)).to(self.device)
        dev = self.device
        peaks = self.pyramid(canvas.to(dev, non_blocking=self.caps.non_blocking), theta.to(dev), pad.to(dev), kernels, frame_hw)
        return [s.state.move(int(b), int(r), int(c), sd, self.scales, self.cfg)
                for s, (b, r, c), sd in zip(slots, peaks.tolist(), sides)]

    @torch.inference_mode()
    def track_many(self, sequences: Sequence[tuple[Sequence[Frame], Sequence[float]]]
                   ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Track every ``(frames, first_box)``; yields ``(index, boxes (N, 4), times (N,))``."""
        waiting = deque(enumerate(sequences))
        slots: list[_Slot] = []
        kernels: torch.Tensor | None = None
        while waiting or slots:
            while waiting and len(slots) < self.batch_size:
                index, (frames, box) = waiting.popleft()
                slots.append(self._start(index, frames, box))
                kernels = None
            finished = [s for s in slots if s.done]
            if finished:
                slots = [s for s in slots if not s.done]
                kernels = None
                yield from ((s.index, np.asarray(s.boxes).reshape(-1, 4), np.asarray(s.times)) for s in finished)
                continue
            if kernels is None:
                kernels = torch.cat([s.kernel for s in slots]).repeat_interleave(len(self.scales), dim=0)
            images = [_image(s.frames[len(s.boxes)]) for s in slots]
            start = time.perf_counter()
            new_boxes = self._step(slots, images, kernels)      # reads the peaks back: synchronised
            share = (time.perf_counter() - start) / len(slots)
            for slot, box in zip(slots, new_boxes):
                slot.boxes.append(box)
                slot.times.append(share)
