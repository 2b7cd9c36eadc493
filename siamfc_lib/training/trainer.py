"""``train(cfg)``: SiamFC training with exact resume, per-epoch checkpoints and logs.

Separate from the model and the tracker: it only needs :func:`build_model`, the loss and
the pair loader. A distributed launcher passes its :class:`DistributedContext`; rank r of
W draws global pair indices r, r + W, ... so the ranks' pairs never overlap.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import torch

from .. import progress as progress_mod
from ..config import TrainConfig, to_dict
from ..data.crop_store import open_crop_store
from ..data.manifest import Manifest
from ..devices import (PRECISION_NAMES, Device, autocast_dtype, capabilities, check_compile, device_name,
                       make_grad_scaler, resolve_device, synchronize, use_channels_last)
from ..io_utils import atomic_write_text
from ..model import build_model
from ..model.losses import balanced_logistic_loss
from ..seeding import derive_seed, seed_everything
from .checkpoints import (checkpoint_dir, epoch_path, load_model_state, prune_checkpoints,
                          remove_partial_files, restore_rng_states, save_checkpoint)
from .consensus import agree_on_start, resume_checkpoint
from .context import DistributedContext
from .pairs import PairDataset, PairSampler, default_augment, pair_loader, shm_prefetch, split_videos
from .run_log import MetricsCsv, close_logger, open_logger
from .schedule import build_optimizer, build_scheduler, lr_scale, lr_warmup_steps, warmup_factor
from .step import TrainStep, to_network_input, tune_backend


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the last good epoch is on disk."""


def _fps_text(rate: float) -> str:
    """Pairs/s for the seed's "FPS:" log lines; steps inside the warm-up are not timed."""
    return "(warm-up)" if math.isnan(rate) else f"{rate:.1f}"


def _loaders(cfg: TrainConfig, ctx: DistributedContext, device: Device):
    manifest = Manifest.load(cfg.data_path)
    store = open_crop_store(cfg.data_path, cfg.lmdb_path)
    store.get(manifest.key(0))  # fail now, naming the store, not inside a worker
    train_videos, val_videos = split_videos(manifest, cfg.val_fraction, cfg.seed)
    augment = default_augment(cfg)
    global_batch = cfg.batch_size * ctx.world_size
    steps = cfg.pairs_per_epoch // global_batch
    if cfg.max_steps_per_epoch:
        steps = min(steps, cfg.max_steps_per_epoch)
    if steps < 1:
        raise ValueError(f"pairs_per_epoch={cfg.pairs_per_epoch} is smaller than one global batch ({global_batch})")
    pin = capabilities(device).pin_memory
    g = cfg.geometry
    batch_bytes = cfg.batch_size * 3 * (g.exemplar_size ** 2 + g.train_instance_size ** 2)   # raw uint8 pairs
    local = int(os.environ.get("LOCAL_WORLD_SIZE", ctx.world_size))   # ranks sharing this node's /dev/shm
    prefetch, shm_note = shm_prefetch(batch_bytes, cfg.workers, local)
    train_set = PairDataset(manifest, store, train_videos, augment, cfg.seed, "train", cfg.frame_range,
                            cfg.pairs_per_epoch, raw=True)
    sampler = PairSampler(cfg.pairs_per_epoch, 0, ctx.rank, ctx.world_size, limit=steps * cfg.batch_size)
    train_loader = pair_loader(train_set, sampler, cfg.batch_size, cfg.workers, pin, drop_last=True,
                               prefetch=prefetch)
    val_loader = None
    if val_videos and cfg.val_pairs > 0:
        val_set = PairDataset(manifest, store, val_videos, augment, cfg.seed, "val", cfg.frame_range,
                              cfg.val_pairs, raw=True)
        val_sampler = PairSampler(cfg.val_pairs, 0, ctx.rank, ctx.world_size, epoch_dependent=False)
        val_loader = pair_loader(val_set, val_sampler, cfg.batch_size, cfg.workers, pin, drop_last=False,
                                 persistent=False, prefetch=prefetch)
    info = {"train_videos": len(train_videos), "val_videos": len(val_videos), "steps_per_epoch": steps,
            "store": store.describe(), "shm_note": shm_note}
    return train_loader, sampler, val_loader, info


def _validate(step: TrainStep, loader, ctx: DistributedContext, channels_last: bool) -> float:
    """Mean balanced loss over the validation pairs (BN in eval mode, no gradients)."""
    if loader is None:
        return math.nan
    step.net.eval()
    total = torch.zeros(2, device=step.device.torch)
    with torch.no_grad():
        for z, x, target_offsets in loader:
            z, x = to_network_input(z, step.device, channels_last), to_network_input(x, step.device, channels_last)
            total += torch.stack([step.loss(z, x, target_offsets).float() * z.shape[0],
                                  torch.tensor(float(z.shape[0]), device=z.device)])
    step.net.train()
    total = ctx.all_reduce_sum(total)
    return float(total[0] / total[1].clamp(min=1))


def train(cfg: TrainConfig, ctx: DistributedContext | None = None, progress: bool | None = None,
          echo: bool = True) -> dict[str, Any]:
    """Train per ``cfg``; returns the summary also written to ``run_dir/summary.json``.

    ``cfg.resume`` continues from ``run_dir/checkpoints/last.pth`` (or starts fresh when
    there is none); on the CPU the result equals an uninterrupted run bit for bit.
    Raises :class:`NonFiniteLossError` when the loss is NaN/inf at a logging interval;
    the last good state is the newest epoch checkpoint (``siamfc_e0`` is the initial one).
    """
    ctx = ctx or DistributedContext()
    run_dir = Path(cfg.run_dir)
    logger = open_logger(run_dir, ctx.rank, echo=echo and ctx.is_main)
    try:
        return _train(cfg, ctx, progress, run_dir, logger)
    finally:
        close_logger(logger)


def _train(cfg: TrainConfig, ctx: DistributedContext, progress: bool | None, run_dir: Path, logger) -> dict[str, Any]:
    device = resolve_device(cfg.device, ctx.local_rank)
    amp_dtype = autocast_dtype(device, cfg.amp)
    channels_last = use_channels_last(device, cfg.channels_last)   # a layout or compile the device lacks fails here
    check_compile(device, cfg.compile)
    tune_backend(device)
    seed_everything(derive_seed(cfg.seed, "model-init"))  # same initial weights on every rank
    model = build_model(cfg.width, cfg.head_bias).to(device.torch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    scale = lr_scale(cfg, ctx.world_size)
    optimizer = build_optimizer(model, cfg, scale)
    scheduler = build_scheduler(optimizer, cfg)
    scaler, scale_update = make_grad_scaler(device, cfg.amp, cfg.loss_scale)

    start_epoch, elapsed_before = 0, 0.0
    if ctx.is_main:
        for partial in remove_partial_files(run_dir):
            logger.info(f"removed {partial}, a checkpoint write cut short by a crash")
    last = checkpoint_dir(run_dir) / "last.pth"
    resume, reports = agree_on_start(cfg, ctx, run_dir, logger)  # global rank 0 decides for every rank
    if resume:
        ckpt = resume_checkpoint(ctx, run_dir, reports, device.torch, logger)
        if abs(float(ckpt["width"]) - cfg.width) > 1e-9:
            raise ValueError(f"{last} was trained with width {ckpt['width']}, the config says {cfg.width}")
        load_model_state(model, ckpt)
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        if ckpt["scaler"] and scaler.is_enabled():
            scaler.load_state_dict(ckpt["scaler"])
        elif scaler.is_enabled():
            logger.info("the checkpoint was trained without fp16 loss scaling: the GradScaler starts fresh")
        restore_rng_states(ckpt["rng"])
        start_epoch, elapsed_before = int(ckpt["epoch"]), float(ckpt.get("elapsed_s", 0.0))
        logger.info(f"Resuming from {ckpt['path']} (epoch {start_epoch} of {cfg.epochs})")
    elif cfg.resume:
        logger.info(f"resume requested but {last} does not exist: starting fresh")
    if start_epoch == 0 and ctx.is_main:
        stale = sorted(checkpoint_dir(run_dir).glob("siamfc_e*.pth"))
        for path in stale:  # an earlier run's epochs would pass for this run's in a sweep
            path.unlink()
        if stale:
            logger.info(f"fresh run: removed {len(stale)} checkpoint(s) of an earlier run in {run_dir}")

    def state(elapsed: float) -> dict[str, Any]:
        return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                "config": to_dict(cfg), "width": cfg.width, "head_bias": cfg.head_bias,
                "elapsed_s": elapsed}

    net = ctx.wrap_model(model)
    if cfg.compile:
        net = torch.compile(net)
    step = TrainStep(net, optimizer, device, amp_dtype, scaler, cfg.r_pos, cfg.r_neg,
                     cfg.geometry.total_stride, loss_fn=lambda *a: balanced_logistic_loss(*a),
                     scale_update=scale_update,
                     labels_follow_shift=cfg.labels_follow_shift)
    train_loader, sampler, val_loader, info = _loaders(cfg, ctx, device)
    if info["shm_note"] and ctx.is_main:
        logger.warning(info["shm_note"])
    metrics = MetricsCsv(run_dir / "metrics.csv", keep_through_epoch=start_epoch if start_epoch else None) \
        if ctx.is_main else None
    if ctx.is_main and start_epoch == 0:
        save_checkpoint(run_dir, 0, state(0.0))
        (run_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=2))
    precision = PRECISION_NAMES[amp_dtype]
    logger.info(f"device {device} ({device_name(device)}), precision {precision}, batch {cfg.batch_size} per "
                f"device x {ctx.world_size} rank(s) = global batch {cfg.batch_size * ctx.world_size}, "
                f"BN statistics {cfg.bn_policy if ctx.world_size > 1 else 'single process'}, "
                f"width {cfg.width}, {info['train_videos']} train / "
                f"{info['val_videos']} val videos from {info['store']}, {info['steps_per_epoch']} steps per epoch")
    steps = info["steps_per_epoch"]
    lr_warmup = lr_warmup_steps(cfg, scale, steps)
    logger.info(f"lr_scaling {cfg.lr_scaling}: lr {cfg.lr:g} x {scale:g} = {cfg.lr * scale:g} at global batch "
                f"{cfg.batch_size * ctx.world_size} ({ctx.world_size} rank(s)), {steps} steps per epoch"
                + (f", warm-up from {cfg.lr:g} over {lr_warmup} steps" if lr_warmup else ""))

    run_start = time.perf_counter()
    epoch_rows: list[dict[str, float]] = []
    global_step = start_epoch * steps
    warmup = max(1, min(cfg.warmup_steps, steps - 1))  # pairs/s is timed after this step
    model.train()
    for epoch in range(start_epoch, cfg.epochs):
        sampler.set_epoch(epoch)
        lr = optimizer.param_groups[0]["lr"]
        epoch_lrs = [g["lr"] for g in optimizer.param_groups]
        loss_sum = torch.zeros((), device=device.torch)
        interval_sum = torch.zeros((), device=device.torch)
        interval_n = 0
        rate_start, rate_pairs = None, 0
        batches = progress_mod.track(train_loader, total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                                     enabled=progress if ctx.is_main else False, log=logger.info,
                                     unit="batch", size=lambda batch: len(batch[0]), size_unit="pair")
        for i, (z, x, target_offsets) in enumerate(batches):
            z = to_network_input(z, device, channels_last)
            x = to_network_input(x, device, channels_last)
            if global_step <= lr_warmup and lr_warmup:  # the last pass restores the scheduled lr
                for group, base in zip(optimizer.param_groups, epoch_lrs):
                    group["lr"] = base * warmup_factor(scale, global_step, lr_warmup)
            loss = step(z, x, target_offsets)
            loss_sum += loss
            interval_sum += loss
            interval_n += 1
            global_step += 1
            if i + 1 == warmup:
                synchronize(device)
                rate_start = time.perf_counter()
            elif rate_start is not None:
                rate_pairs += z.shape[0] * ctx.world_size
            if (i + 1) % cfg.log_every == 0 or i + 1 == steps:
                interval_loss = float(ctx.all_reduce_sum(interval_sum) / (interval_n * ctx.world_size))
                _check_finite(interval_loss, epoch, global_step, run_dir)
                now = time.perf_counter()
                rate = rate_pairs / (now - rate_start) if rate_start is not None and now > rate_start else math.nan
                if ctx.is_main:   # DDP all-reduces gradients before the overflow check: every rank skips alike
                    overflow = int(step.overflow_steps.item()) if scaler.is_enabled() else None
                    metrics.write(kind="step", epoch=epoch + 1, step=global_step, loss=interval_loss,
                                  lr=optimizer.param_groups[0]["lr"], pairs_per_s=rate,
                                  seconds=elapsed_before + now - run_start, overflow_skipped=overflow)
                    logger.info(f"Epoch: [{epoch + 1}][{i + 1}/{steps}] Loss: {interval_loss:.4f} "
                                f"FPS: {_fps_text(rate)} lr: {optimizer.param_groups[0]['lr']:.3g}")
                interval_sum.zero_()
                interval_n = 0
        train_loss = float(ctx.all_reduce_sum(loss_sum) / (steps * ctx.world_size))
        _check_finite(train_loss, epoch, global_step, run_dir)
        synchronize(device)
        now = time.perf_counter()
        epoch_rate = rate_pairs / (now - rate_start) if rate_start is not None and now > rate_start else math.nan
        val_loss = _validate(step, val_loader, ctx, channels_last)
        scheduler.step()
        elapsed = elapsed_before + time.perf_counter() - run_start
        row = {"epoch": epoch + 1, "loss": train_loss, "val_loss": val_loss, "lr": lr,
               "pairs_per_s": epoch_rate, "seconds": elapsed}
        epoch_rows.append(row)
        if ctx.is_main:
            metrics.write(kind="epoch", step=global_step, **row)  # before the checkpoint: resume keeps it
            path = save_checkpoint(run_dir, epoch + 1, state(elapsed))
            prune_checkpoints(run_dir, epoch + 1, cfg.epochs, cfg.keep_checkpoints)
            logger.info(f"Epoch: [{epoch + 1}/{cfg.epochs}] Loss: {train_loss:.4f} Val loss: {val_loss:.4f} "
                        f"FPS: {epoch_rate:.1f} lr: {lr:.3g} time: {elapsed:.1f}s checkpoint: {path}")
        ctx.barrier()

    summary = _summary(cfg, ctx, device, precision, run_dir, epoch_rows, start_epoch,
                       elapsed_before + time.perf_counter() - run_start)
    if ctx.is_main:
        atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=2))
        logger.info(f"FPS: {summary['pairs_per_s']:.1f}")
        logger.info(f"Loss: {summary['final_loss']:.4f}")
        logger.info(f"Val loss: {summary['final_val_loss']:.4f}")
        logger.info(f"E2E training time: {summary['seconds']:.1f}s")
    return summary


def _check_finite(value: float, epoch: int, global_step: int, run_dir: Path) -> None:
    if math.isfinite(value):
        return
    ckpts = sorted(checkpoint_dir(run_dir).glob("siamfc_e*.pth"), key=lambda p: int(p.stem[len("siamfc_e"):]))
    good = ckpts[-1] if ckpts else epoch_path(run_dir, epoch)
    raise NonFiniteLossError(
        f"training loss is {value} at epoch {epoch + 1}, step {global_step}: stopped. The last good "
        f"state is {good} (also last.pth); resume from it with a lower lr, or amp='none' if "
        f"mixed precision overflowed.")


def _summary(cfg: TrainConfig, ctx: DistributedContext, device: Device, precision: str, run_dir: Path,
             rows: list[dict[str, float]], start_epoch: int, seconds: float) -> dict[str, Any]:
    rates = [r["pairs_per_s"] for r in rows if math.isfinite(r["pairs_per_s"])]
    vals = [(r["val_loss"], r["epoch"]) for r in rows if math.isfinite(r["val_loss"])]
    best = min(vals) if vals else (math.nan, None)
    return {
        "run_dir": str(run_dir), "epochs": cfg.epochs, "epochs_this_session": len(rows),
        "resumed_from_epoch": start_epoch,
        "final_loss": rows[-1]["loss"] if rows else math.nan,
        "final_val_loss": rows[-1]["val_loss"] if rows else math.nan,
        "best_val_loss": best[0], "best_val_epoch": best[1],
        "pairs_per_s": sum(rates) / len(rates) if rates else math.nan,
        "seconds": seconds, "device": str(device), "device_name": device_name(device),
        "precision": precision, "batch_size": cfg.batch_size, "world_size": ctx.world_size,
        "width": cfg.width, "seed": cfg.seed,
        "checkpoint": str(checkpoint_dir(run_dir) / "last.pth"), "torch": torch.__version__,
    }
