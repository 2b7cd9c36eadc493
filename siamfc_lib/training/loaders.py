"""The training and validation pair loaders of one rank, as the trainer and the benchmarks build them."""
from __future__ import annotations

import os
from typing import Any

from ..config import TrainConfig
from ..data.crop_store import open_crop_store
from ..data.manifest import Manifest
from ..devices import Device, uploads
from .context import DistributedContext
from .pairs import PairDataset, PairSampler, default_augment, pair_loader, shm_prefetch, split_videos


def steps_per_epoch(cfg: TrainConfig, world_size: int) -> int:
    global_batch = cfg.batch_size * world_size
    steps = cfg.pairs_per_epoch // global_batch
    if cfg.max_steps_per_epoch:
        steps = min(steps, cfg.max_steps_per_epoch)
    if steps < 1:
        raise ValueError(f"pairs_per_epoch={cfg.pairs_per_epoch} is smaller than one global batch ({global_batch})")
    return steps


def build_loaders(cfg: TrainConfig, ctx: DistributedContext, device: Device) -> tuple[Any, PairSampler, Any, dict]:
    """``(train loader, its sampler, validation loader or None, info)``; rank r of W draws pairs r, r + W, ...

    ``info``: train/val video counts, steps per epoch, the store's description and a note when
    /dev/shm is too small for the prefetch depth asked for.
    """
    manifest = Manifest.load(cfg.data_path)
    store = open_crop_store(cfg.data_path, cfg.lmdb_path)
    store.get(manifest.key(0))  # fail now, naming the store, not inside a worker
    train_videos, val_videos = split_videos(manifest, cfg.val_fraction, cfg.seed)
    augment = default_augment(cfg)
    steps = steps_per_epoch(cfg, ctx.world_size)
    pin, _ = uploads(device, cfg.npu_options.pinned_memory)
    g = cfg.geometry
    batch_bytes = cfg.batch_size * 3 * (g.exemplar_size ** 2 + g.train_instance_size ** 2)   # raw uint8 pairs
    local = int(os.environ.get("LOCAL_WORLD_SIZE", ctx.world_size))   # ranks sharing this node's /dev/shm
    prefetch, shm_note = shm_prefetch(batch_bytes, cfg.workers, local)
    train_set = PairDataset(manifest, store, train_videos, augment, cfg.seed, "train", cfg.frame_range,
                            cfg.pairs_per_epoch, raw=True)
    sampler = PairSampler(cfg.pairs_per_epoch, 0, ctx.rank, ctx.world_size, limit=steps * cfg.batch_size)
    train_loader = pair_loader(train_set, sampler, cfg.batch_size, cfg.workers, pin, drop_last=True,
                               prefetch=prefetch, pin_device=device.kind)
    val_loader = None
    if val_videos and cfg.val_pairs > 0:
        val_set = PairDataset(manifest, store, val_videos, augment, cfg.seed, "val", cfg.frame_range,
                              cfg.val_pairs, raw=True)
        val_sampler = PairSampler(cfg.val_pairs, 0, ctx.rank, ctx.world_size, epoch_dependent=False)
        val_loader = pair_loader(val_set, val_sampler, cfg.batch_size, cfg.workers, pin, drop_last=False,
                                 persistent=False, prefetch=prefetch, pin_device=device.kind)
    info = {"train_videos": len(train_videos), "val_videos": len(val_videos), "steps_per_epoch": steps,
            "store": store.describe(), "shm_note": shm_note}
    return train_loader, sampler, val_loader, info


def preview_pairs(cfg: TrainConfig, split: str, count: int, stream: str, chunk: int = 8):
    """``count`` augmented pairs ``(z, x, target offsets)`` of the ``split`` videos ("train" or "val";
    the training videos when none are held out), as 03 shows them before and after training.

    Read ``chunk`` pairs at a time, the crop store closed afterwards: the notebook's kernel keeps no
    LMDB pages mapped while it trains, and no batch of 64 decoded pairs at once.
    """
    import torch

    manifest = Manifest.load(cfg.data_path)
    store = open_crop_store(cfg.data_path, cfg.lmdb_path)
    try:
        train_videos, val_videos = split_videos(manifest, cfg.val_fraction, cfg.seed)
        videos = (val_videos or train_videos) if split == "val" else train_videos
        dataset = PairDataset(manifest, store, videos, default_augment(cfg), cfg.seed, stream, cfg.frame_range, count)
        parts = []
        for start in range(0, count, chunk):
            pairs = [dataset[i] for i in range(start, min(count, start + chunk))]
            parts.append(tuple(torch.stack(column) for column in zip(*pairs)))
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()
    return tuple(torch.cat(column) for column in zip(*parts))
