"""Evaluation mode: many sequences x many models tracked in lockstep.

Each slot holds one sequence and, for every model evaluated on it, that model's
:class:`TrackState` and exemplar features. A step reads each slot's next frame once (decoded
ahead by :class:`~siamfc_lib.tracking.frames.FramePool` workers) and, per model, crops every
scale of every slot, runs ONE backbone pass over the B x S crops, correlates each crop with its
own sequence's exemplar and locates the peaks. A sequence that ends leaves its slot, which the
next waiting sequence takes. So a sweep over K checkpoints decodes each frame once, not K times.

Crops are cut the way the one-sequence tracker cuts them on the same device ("auto": host
``warpAffine`` + NumPy peak search on the CPU, one ``grid_sample`` + device peak search on
accelerators), so boxes equal :class:`SiamFCTracker`'s to float tolerance
(tests/test_batched_tracking.py).

Timing (got10k's per-frame times): a step's time is divided equally among the tracks in it
(host path: per model; device path: all models, queued back to back and read back once);
frame 0's time is that model's ``init`` (exemplar) call. Image decoding is not timed, as in got10k.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch

from ..config.tracking import TrackerConfig
from ..data.crops import crop_square
from ..devices import Capabilities, as_device, synchronize
from .device_step import PyramidStep
from .frames import FrameFeed, FramePool
from .response import hann_window, host_peak, scale_factors, upsample_bicubic
from .search_crops import crops_to_input, pyramid_theta, warp_crops
from .state import TrackState
from .tracker import crop_backend_for, placement, use_channels_last

Frame = np.ndarray | str | Path


@dataclass
class _Track:
    """One model on one sequence."""

    state: TrackState
    kernel: torch.Tensor
    boxes: list[np.ndarray] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


@dataclass
class _Slot:
    index: int
    length: int
    feed: FrameFeed
    tracks: dict[str, _Track]
    position: int = 1          # index of the next frame to track

    @property
    def done(self) -> bool:
        return self.position >= self.length


class _Model:
    def __init__(self, model: torch.nn.Module, cfg: TrackerConfig, device: torch.device, amp: str | None,
                 channels_last: bool, caps: Capabilities):
        self.model = model.to(device).eval()
        channels_last = channels_last and getattr(model, "channels_last", True)   # an exported network: False
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.pyramid = PyramidStep(self.model, cfg, device, amp, channels_last, caps)


class MultiSiamFC:
    """``track(jobs)``: ``jobs[i] = (frames, first_box, model_names)``; yields ``(i, name, boxes, times)``.

    ``models``: ``{name: network}``. ``crop_backend``: "auto" (warp on CPU, grid elsewhere),
    "warp" or "grid". ``frame_pool``: decoding workers (None: decode in this process).
    """

    def __init__(self, models: Mapping[str, torch.nn.Module], cfg: TrackerConfig | None = None, device=None,
                 batch_size: int = 16, channels_last: bool | None = None, amp: str | None = None,
                 crop_backend: str = "auto", frame_pool: FramePool | None = None):
        self.cfg = cfg or TrackerConfig()
        self.device, self.caps = placement(device)
        channels_last = use_channels_last(self.caps.kind, channels_last)   # None: where the device supports it
        self.batch_size = max(1, int(batch_size))
        self.crop_backend = crop_backend_for(self.caps, crop_backend)
        self.models = {name: _Model(m, self.cfg, self.device, amp, channels_last, self.caps) for name, m in models.items()}
        self.scales = scale_factors(self.cfg.scale_num, self.cfg.scale_step)
        geo = self.cfg.geometry
        self.window = hann_window(geo.response_size(geo.instance_size) * self.cfg.response_up)
        self.frame_pool = frame_pool
        self._canvas: torch.Tensor | None = None

    # --- one sequence joins -------------------------------------------------------------
    def _start(self, index: int, frames: Sequence[Frame], box_otb: Sequence[float], names: Sequence[str]) -> _Slot:
        feed = self.frame_pool.feed(frames) if self.frame_pool is not None else FrameFeed(frames, None, 1)
        image = feed.next()
        start = time.perf_counter()
        state = TrackState.start(image, box_otb, self.cfg)
        geo = self.cfg.geometry
        z = crop_square(image, *state.centre, state.exemplar_side, geo.exemplar_size, state.pad_color)
        z_t = torch.from_numpy(z[None]).to(self.device).permute(0, 3, 1, 2).float()
        shared = time.perf_counter() - start
        tracks = {}
        for name in names:
            start = time.perf_counter()
            kernel = self.models[name].pyramid.features(z_t)
            synchronize(as_device(self.device))   # wait, so the init time is the real one
            track = _Track(TrackState(**vars(state)), kernel)
            track.times.append(shared + time.perf_counter() - start)
            track.boxes.append(np.asarray(box_otb, dtype=np.float64))
            tracks[name] = track
        return _Slot(index, len(frames), feed, tracks)

    # --- one step of one model over the slots that use it -------------------------------------
    def _host_step(self, model: _Model, tracks: list[_Track], images: list[np.ndarray]) -> list[np.ndarray]:
        """The one-sequence tracker's CPU path, with one backbone pass for all slots."""
        cfg, size, s = self.cfg, self.cfg.geometry.instance_size, len(self.scales)
        sides = [t.state.search_side * self.scales for t in tracks]
        crops = np.concatenate([warp_crops(im, *t.state.centre, sd, size, t.state.pad_color)
                                for t, im, sd in zip(tracks, images, sides)])
        layout = torch.channels_last if model.pyramid.channels_last else torch.contiguous_format
        feats = model.pyramid.features(crops_to_input(crops, self.device, layout))
        raw = torch.cat([model.model.head(t.kernel, feats[i * s:(i + 1) * s]) for i, t in enumerate(tracks)])
        up = upsample_bicubic(raw, cfg.response_up).cpu().numpy()
        out = []
        for i, (t, sd) in enumerate(zip(tracks, sides)):
            best, _, row, col = host_peak(up[i * s:(i + 1) * s], self.window, cfg.scale_penalty, cfg.window_influence)
            out.append(t.state.move(best, row, col, sd, self.scales, cfg))
        return out

    def _host_canvas(self, shape: tuple[int, ...]) -> torch.Tensor:
        """Reused (pinned on CUDA) uint8 canvas; its uncovered parts are masked, never read."""
        if self._canvas is None or tuple(self._canvas.shape) != shape:
            self._canvas = torch.empty(shape, dtype=torch.uint8, pin_memory=self.caps.pin_memory)
        return self._canvas

    def _upload(self, images: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor | None, tuple[int, int]]:
        """All slots' frames on one top-left aligned canvas, uploaded once for every model."""
        sizes = np.array([im.shape[:2] for im in images])
        hc, wc = (int(v) for v in sizes.max(axis=0))
        canvas = self._host_canvas((len(images), hc, wc, 3))
        canvas_np = canvas.numpy()
        for i, im in enumerate(images):
            canvas_np[i, :im.shape[0], :im.shape[1]] = im
        same_size = bool((sizes == sizes[0]).all())
        frame_hw = None if same_size else torch.from_numpy(sizes.astype(np.int64)).to(self.device)
        return canvas.to(self.device, non_blocking=self.caps.non_blocking), frame_hw, (hc, wc)

    def _device_step(self, model: _Model, tracks: list[_Track], frames: torch.Tensor, frame_hw, canvas_hw,
                     kernels: torch.Tensor) -> torch.Tensor:
        """Queue one model's step on the device; its (B, 3) peaks are read back with the others'."""
        sides = np.stack([t.state.search_side * self.scales for t in tracks])
        centres = np.stack([t.state.centre for t in tracks])
        theta = torch.from_numpy(pyramid_theta(centres, sides, canvas_hw, self.cfg.geometry.instance_size))
        pad = torch.from_numpy(np.stack([t.state.pad_color for t in tracks]).astype(np.float32))
        return model.pyramid(frames, theta.to(self.device), pad.to(self.device), kernels, frame_hw)

    def _grid_step(self, slots: list[_Slot], images: list[np.ndarray], kernels: dict[str, torch.Tensor]) -> None:
        """Every model's step queued back to back, ONE read-back of all peaks (one host sync per step).

        Each track is charged the step's wall time (upload included) divided by the tracks in it.
        """
        start = time.perf_counter()
        frames_t, frame_hw, canvas_hw = self._upload(images)
        queued = []
        for name, model in self.models.items():
            members = [i for i, s in enumerate(slots) if name in s.tracks]
            if not members:
                continue
            tracks = [slots[i].tracks[name] for i in members]
            if name not in kernels:
                kernels[name] = torch.cat([t.kernel for t in tracks]).repeat_interleave(len(self.scales), dim=0)
            whole = len(members) == len(slots)
            sel = frames_t if whole else frames_t[members]
            hw = frame_hw if frame_hw is None or whole else frame_hw[members]
            queued.append((tracks, self._device_step(model, tracks, sel, hw, canvas_hw, kernels[name])))
        peaks = torch.cat([p for _, p in queued]).tolist()
        everyone = [t for tracks, _ in queued for t in tracks]
        for t, (b, r, c) in zip(everyone, peaks):
            t.boxes.append(t.state.move(int(b), int(r), int(c), t.state.search_side * self.scales, self.scales,
                                        self.cfg))
        share = (time.perf_counter() - start) / max(1, len(everyone))
        for t in everyone:
            t.times.append(share)

    @torch.inference_mode()
    def track(self, jobs: Sequence[tuple[Sequence[Frame], Sequence[float], Sequence[str]]],
              on_step: Callable[[int], None] | None = None) -> Iterator[tuple[int, str, np.ndarray, np.ndarray]]:
        """Yields ``(job index, model name, boxes (N, 4) 1-based OTB, seconds (N,))`` as sequences finish.

        ``on_step(frames)`` after every step, with the frames it tracked (all models): progress.
        """
        waiting = deque((i, job) for i, job in enumerate(jobs) if job[2] and len(job[0]))
        slots: list[_Slot] = []
        kernels: dict[str, torch.Tensor] = {}
        try:
            while waiting or slots:
                while waiting and len(slots) < self.batch_size:
                    index, (frames, box, names) = waiting.popleft()
                    slots.append(self._start(index, frames, box, names))
                    kernels = {}
                finished = [s for s in slots if s.done]
                if finished:
                    slots = [s for s in slots if not s.done]
                    kernels = {}
                    for s in finished:
                        s.feed.close()
                        for name, t in s.tracks.items():
                            yield s.index, name, np.asarray(t.boxes).reshape(-1, 4), np.asarray(t.times)
                    continue
                images = [s.feed.next() for s in slots]
                if self.crop_backend == "grid":
                    self._grid_step(slots, images, kernels)
                else:
                    for name, model in self.models.items():
                        members = [i for i, s in enumerate(slots) if name in s.tracks]
                        if not members:
                            continue
                        tracks = [slots[i].tracks[name] for i in members]
                        start = time.perf_counter()
                        new_boxes = self._host_step(model, tracks, [images[i] for i in members])
                        share = (time.perf_counter() - start) / len(tracks)
                        for t, box in zip(tracks, new_boxes):
                            t.boxes.append(box)
                            t.times.append(share)
                for s in slots:
                    s.position += 1
                if on_step is not None:
                    on_step(sum(len(s.tracks) for s in slots))
        finally:
            for s in slots:
                s.feed.close()


class BatchedSiamFC:
    """One model over many sequences: ``track_many([(frames, box), ...])`` yields ``(index, boxes, times)``."""

    name = "SiamFC"

    def __init__(self, model: torch.nn.Module, cfg: TrackerConfig | None = None, device=None,
                 batch_size: int = 16, channels_last: bool | None = None, amp: str | None = None,
                 name: str | None = None, crop_backend: str = "auto", frame_pool: FramePool | None = None):
        if name:
            self.name = name
        self.engine = MultiSiamFC({self.name: model}, cfg, device, batch_size, channels_last, amp,
                                  crop_backend, frame_pool)
        self.cfg, self.device = self.engine.cfg, self.engine.device
        self.model = self.engine.models[self.name].model

    def track_many(self, sequences: Sequence[tuple[Sequence[Frame], Sequence[float]]]
                   ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        for index, _, boxes_otb, times in self.engine.track([(f, b, [self.name]) for f, b in sequences]):
            yield index, boxes_otb, times
