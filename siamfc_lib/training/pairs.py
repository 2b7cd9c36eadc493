"""Training pairs from curated crops: a video, a track, an exemplar and a nearby instance.

Randomness is derived per item from ``(seed, stream, global index)`` via
:mod:`siamfc_lib.seeding`, never from a worker's or process's global state. A pair is
therefore the same whatever the worker count, the worker that draws it, or whether the run
was resumed; epochs and ranks differ because the sampler hands out disjoint global indices
(epoch ``e`` covers ``e * n .. e * n + n - 1``; rank ``r`` of ``W`` takes ``r, r + W, ...``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..data.manifest import Manifest, crop_key
from ..seeding import rng as derived_rng
from .transforms import AugmentParams, augment_pair


def split_videos(manifest: Manifest, val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Seeded train/validation split by video; both sides non-empty when there are >= 2 videos."""
    names = sorted(v.video for v in manifest.videos if any(len(t.frames) >= 2 for t in v.tracks))
    if not names:
        raise ValueError("no video has a track with at least 2 frames: nothing to train on")
    order = derived_rng(seed, "video-split").permutation(len(names))
    n_val = int(round(len(names) * val_fraction)) if val_fraction > 0 else 0
    if val_fraction > 0 and len(names) >= 2:
        n_val = min(max(n_val, 1), len(names) - 1)
    val = sorted(names[i] for i in order[:n_val])
    train = sorted(names[i] for i in order[n_val:])
    return train, val


@dataclass(frozen=True)
class _TrackRef:
    video: str
    trackid: int
    frames: tuple[int, ...]


class PairDataset(Dataset):
    """``dataset[global_index] -> (exemplar, instance)``.

    ``raw=False``: float32 CHW tensors in 0..255 (RGB). ``raw=True``: uint8 HWC tensors, the
    trainer's fast path (4x less to transfer; the device converts, and NHWC is already
    channels_last).
    """

    def __init__(self, manifest: Manifest, store, videos: list[str], params: AugmentParams,
                 seed: int, stream: str = "train", frame_range: int = 100, items: int = 1000,
                 raw: bool = False):
        wanted = set(videos)
        self.tracks: list[list[_TrackRef]] = [
            [_TrackRef(v.video, t.trackid, tuple(t.frames)) for t in v.tracks if len(t.frames) >= 2]
            for v in manifest.videos if v.video in wanted
        ]
        self.tracks = [t for t in self.tracks if t]
        if not self.tracks:
            raise ValueError(f"{stream}: none of the {len(videos)} videos has a track with >= 2 frames")
        if frame_range < 1:
            raise ValueError(f"frame_range must be >= 1, got {frame_range}")
        self.store, self.params, self.seed, self.stream = store, params, seed, stream
        self.frame_range, self.items, self.raw = frame_range, items, raw

    def __len__(self) -> int:
        return self.items

    def choose(self, index: int) -> tuple[str, str]:
        """The (exemplar key, instance key) of item ``index``."""
        gen = derived_rng(self.seed, "pairs", self.stream, index)
        video_tracks = self.tracks[int(gen.integers(len(self.tracks)))]
        track = video_tracks[int(gen.integers(len(video_tracks)))]
        n = len(track.frames)
        zi = int(gen.integers(n))
        lo, hi = max(0, zi - self.frame_range), min(n - 1, zi + self.frame_range)
        xi = int(gen.integers(lo, hi))  # lo..hi-1, then skip over zi: uniform over the others
        if xi >= zi:
            xi += 1
        return (crop_key(track.video, track.frames[zi], track.trackid),
                crop_key(track.video, track.frames[xi], track.trackid))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        z_key, x_key = self.choose(index)
        gen = derived_rng(self.seed, "augment", self.stream, index)
        z, x = augment_pair(self.store.get_rgb(z_key), self.store.get_rgb(x_key), gen, self.params)
        if self.raw:
            return torch.from_numpy(z), torch.from_numpy(x)
        return (torch.from_numpy(z).permute(2, 0, 1).float(), torch.from_numpy(x).permute(2, 0, 1).float())


class PairSampler(Sampler[int]):
    """Global indices of one epoch for one rank: ``offset + rank, offset + rank + W, ...``."""

    def __init__(self, items: int, epoch: int = 0, rank: int = 0, world_size: int = 1,
                 epoch_dependent: bool = True, limit: int | None = None):
        self.items, self.rank, self.world_size = items, rank, world_size
        self.epoch_dependent = epoch_dependent
        self.limit = limit
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Move to ``epoch``'s indices (the sampler runs in the main process, so this reaches
        persistent workers too); a fixed sampler (validation) stays on the same pairs."""
        self.offset = epoch * self.items if self.epoch_dependent else 0

    def __iter__(self) -> Iterator[int]:
        indices = range(self.offset + self.rank, self.offset + self.items, self.world_size)
        return iter(indices[: self.limit] if self.limit is not None else indices)

    def __len__(self) -> int:
        n = len(range(self.rank, self.items, self.world_size))
        return min(n, self.limit) if self.limit is not None else n


def pair_loader(dataset: PairDataset, sampler: PairSampler, batch_size: int, workers: int,
                pin_memory: bool = False, drop_last: bool = True) -> DataLoader:
    """Persistent workers (forked once per run). No ``cv2.setNumThreads`` in workers: after
    the parent has used OpenCV's thread pool, that call deadlocks a forked child."""
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                      pin_memory=pin_memory, drop_last=drop_last, prefetch_factor=4 if workers > 0 else None, persistent_workers=workers > 0)


def default_augment(cfg) -> AugmentParams:
    """Augmentation of a :class:`TrainConfig` (validation uses the same, seeded per item)."""
    g = cfg.geometry
    return AugmentParams(g.exemplar_size, g.train_instance_size, cfg.stretch, cfg.max_translate,
                         cfg.gray_prob, cfg.color_jitter)

