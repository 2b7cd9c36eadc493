"""Training pairs from curated crops: a video, a track, an exemplar and a nearby instance.

Randomness is derived per item from ``(seed, stream, global index)`` via
:mod:`siamfc_lib.seeding`, never from a worker's or process's global state. A pair is
therefore the same whatever the worker count, the worker that draws it, or whether the run
was resumed; epochs and ranks differ because the sampler hands out disjoint global indices
(epoch ``e`` covers ``e * n .. e * n + n - 1``; rank ``r`` of ``W`` takes ``r, r + W, ...``).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..data.manifest import Manifest, crop_key
from ..seeding import rng as derived_rng
from .transforms import AugmentParams, augment_pair


def split_videos(manifest: Manifest, val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Seeded train/validation split by video; both sides non-empty when there are >= 2 videos."""
    usable = np.unique(manifest.track_video[manifest.track_lengths() >= 2])
    names = sorted(manifest.video_names[v] for v in usable)
    if not names:
        raise ValueError("no video has a track with at least 2 frames: nothing to train on")
    order = derived_rng(seed, "video-split").permutation(len(names))
    n_val = int(round(len(names) * val_fraction)) if val_fraction > 0 else 0
    if val_fraction > 0 and len(names) >= 2:
        n_val = min(max(n_val, 1), len(names) - 1)
    val = sorted(names[i] for i in order[:n_val])
    train = sorted(names[i] for i in order[n_val:])
    return train, val


class PairDataset(Dataset):
    """``dataset[global_index] -> (exemplar, instance, target_offset)``.

    ``raw=False``: float32 CHW tensors in 0..255 (RGB). ``raw=True``: uint8 HWC tensors, the
    trainer's fast path (4x less to transfer; the device converts, and NHWC is already
    channels_last). ``target_offset``: float32 ``(dx, dy)``, where augmentation put the target's
    centre in the instance, in px from the crop centre (for labels that follow the shift).

    Holds the manifest's columns (arrays, memory-mapped when loaded from disk) and a few small
    index arrays, no per-track or per-crop Python objects: forked workers share the pages
    instead of copying them as reference counts change.
    """

    def __init__(self, manifest: Manifest, store, videos: list[str], params: AugmentParams,
                 seed: int, stream: str = "train", frame_range: int = 100, items: int = 1000,
                 raw: bool = False):
        wanted = set(videos)
        lengths = manifest.track_lengths()
        video_tracks = manifest.video_track_start
        tracks, video_start = [], [0]
        for v, name in enumerate(manifest.video_names):  # manifest order, as the pairs were always drawn
            if name not in wanted:
                continue
            t = np.arange(video_tracks[v], video_tracks[v + 1])
            t = t[lengths[t] >= 2]
            if len(t):
                tracks.append(t)
                video_start.append(video_start[-1] + len(t))
        if not tracks:
            raise ValueError(f"{stream}: none of the {len(videos)} videos has a track with >= 2 frames")
        if frame_range < 1:
            raise ValueError(f"frame_range must be >= 1, got {frame_range}")
        self._tracks = np.concatenate(tracks)               # usable tracks, grouped by video
        self._video_start = np.asarray(video_start, np.int64)
        self._names = manifest.video_names
        self._track_video, self._trackid = manifest.track_video, manifest.trackid
        self._crop_start = manifest.track_crop_start
        self._frame = manifest.frame
        self.store, self.params, self.seed, self.stream = store, params, seed, stream
        self.frame_range, self.items, self.raw = frame_range, items, raw

    @property
    def num_videos(self) -> int:
        return len(self._video_start) - 1

    def choose(self, index: int) -> tuple[str, str]:
        """The (exemplar key, instance key) of item ``index``."""
        gen = derived_rng(self.seed, "pairs", self.stream, index)
        v = int(gen.integers(self.num_videos))
        first, count = int(self._video_start[v]), int(self._video_start[v + 1] - self._video_start[v])
        t = int(self._tracks[first + int(gen.integers(count))])
        a, n = int(self._crop_start[t]), int(self._crop_start[t + 1] - self._crop_start[t])
        zi = int(gen.integers(n))
        lo, hi = max(0, zi - self.frame_range), min(n - 1, zi + self.frame_range)
        xi = int(gen.integers(lo, hi))  # lo..hi-1, then skip over zi: uniform over the others
        if xi >= zi:
            xi += 1
        video, trackid = self._names[self._track_video[t]], int(self._trackid[t])
        return crop_key(video, self._frame[a + zi], trackid), crop_key(video, self._frame[a + xi], trackid)

    def __len__(self) -> int:
        return self.items

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z_key, x_key = self.choose(index)
        gen = derived_rng(self.seed, "augment", self.stream, index)
        z, x, where = augment_pair(self.store.get_rgb(z_key), self.store.get_rgb(x_key), gen, self.params)
        offset = torch.tensor([-where.shift[0], -where.shift[1]], dtype=torch.float32)
        if self.raw:
            return torch.from_numpy(z), torch.from_numpy(x), offset
        return torch.from_numpy(z).permute(2, 0, 1).float(), torch.from_numpy(x).permute(2, 0, 1).float(), offset


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
                pin_memory: bool = False, drop_last: bool = True, persistent: bool = True,
                prefetch: int = 4, pin_device: str = "cuda") -> DataLoader:
    """Workers forked once per run when ``persistent`` (training), once per pass otherwise
    (validation: no idle processes between passes). No ``cv2.setNumThreads`` in workers:
    after the parent has used OpenCV's thread pool, that call deadlocks a forked child.
    ``pin_device``: the accelerator whose page-locked memory batches are pinned in (cuda, npu)."""
    pinning = {"pin_memory_device": pin_device} if pin_memory and pin_device not in ("cuda", "cpu") else {}
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                      pin_memory=pin_memory, drop_last=drop_last, prefetch_factor=prefetch if workers > 0 else None,
                      persistent_workers=persistent and workers > 0, **pinning)


SHM = "/dev/shm"


def shm_prefetch(batch_bytes: int, workers: int, processes: int, wanted: int = 4) -> tuple[int, str | None]:
    """Batches each worker may prefetch so that all ranks' batches in flight fit in /dev/shm
    (DataLoader workers hand tensors over through it; containers default to 64 MiB), and a
    message when that is fewer than ``wanted``."""
    import shutil

    if workers <= 0:
        return wanted, None
    try:
        free = shutil.disk_usage(SHM).free
    except OSError:
        return wanted, None  # no /dev/shm (not Linux): nothing to size
    per_prefetch = batch_bytes * workers * max(1, processes)   # validation runs while training's workers idle
    fits = int(0.8 * free // max(per_prefetch, 1))
    if fits >= wanted:
        return wanted, None
    need = per_prefetch * wanted / 0.8
    msg = (f"{SHM} has {free / 2**20:.0f} MiB free, {need / 2**20:.0f} MiB wanted for {processes} process(es) x "
           f"{workers} workers x {wanted} prefetched batches: ")
    if fits >= 1:
        return fits, msg + (f"prefetching {fits} batch(es) per worker instead. Give the container more "
                            "(docker run --shm-size=4g; Kubernetes: an emptyDir with medium Memory on /dev/shm).")
    return 1, msg + ("prefetching 1 batch per worker, which may still fail with 'No space left on device' or "
                     "a bus error: give the container more shared memory (docker run --shm-size=4g) or lower "
                     "workers / batch_size.")


def default_augment(cfg) -> AugmentParams:
    """Augmentation of a :class:`TrainConfig` (validation uses the same, seeded per item)."""
    g = cfg.geometry
    return AugmentParams(g.exemplar_size, g.train_instance_size, cfg.stretch, cfg.max_translate,
                         cfg.gray_prob, cfg.color_jitter)

