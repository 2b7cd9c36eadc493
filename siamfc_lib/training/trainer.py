"""``train(cfg)``: SiamFC training with exact resume, per-epoch checkpoints and logs.

Separate from the model and the tracker: it only needs :func:`build_model`, the loss and
the pair loader. A distributed launcher passes its :class:`DistributedContext`; rank r of
W draws global pair indices r, r + W, ... so the ranks' pairs never overlap.

The loop reads as its steps: set up, restore or start, then per epoch the batches, the end of
the epoch (validation, schedule, metrics, checkpoint), and at the end the summary. The order
of the set-up steps is part of the result: the random streams are drawn in this order, so a
resumed run equals an uninterrupted one bit for bit.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import progress as progress_mod
from ..config import TrainConfig, to_dict
from ..devices import (Device, autocast_dtype, check_compile, device_name, make_grad_scaler, precision_in_effect,
                       resolve_device, set_current, synchronize, uploads, use_channels_last)
from ..io_utils import atomic_write_text
from ..model import build_model
from ..model.losses import balanced_logistic_loss
from ..seeding import derive_seed, seed_everything
from .checkpoints import (checkpoint_dir, epoch_checkpoints, epoch_path, load_model_state, prune_checkpoints,
                          remove_partial_files, restore_rng_states, save_checkpoint)
from .consensus import agree_on_start, resume_checkpoint
from .context import DistributedContext
from . import npu_runtime
from .loaders import build_loaders
from .run_log import MetricsCsv, close_logger, open_logger
from .schedule import build_optimizer, build_scheduler, lr_scale, lr_warmup_steps, warmup_factor
from .step import TrainStep, to_network_input, tune_backend


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the last good epoch is on disk."""


@dataclass
class _Run:
    """What one training process holds from set-up to summary."""

    cfg: TrainConfig
    ctx: DistributedContext
    run_dir: Path
    logger: Any
    device: Device
    amp_dtype: torch.dtype | None
    channels_last: bool
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: Any
    scale_update: float | None
    static_scale: bool
    lr_scale: float
    non_blocking: bool
    precision: str                # as it runs on this device (devices.precision_in_effect)
    start_epoch: int = 0
    elapsed_before: float = 0.0
    step: TrainStep | None = None
    metrics: MetricsCsv | None = None
    profiler: Any = None
    rows: list[dict[str, float]] = field(default_factory=list)

    def state(self, elapsed: float) -> dict[str, Any]:
        """A checkpoint's content (``save_checkpoint`` adds the format, epoch and RNG states)."""
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                "config": to_dict(self.cfg), "width": self.cfg.width, "head_bias": self.cfg.head_bias,
                "elapsed_s": elapsed}


class _PairRate:
    """Pairs/s after the warm-up step (the first steps include allocation and compilation)."""

    def __init__(self, warmup: int, device: Device):
        self.warmup, self.device = warmup, device
        self.start: float | None = None
        self.pairs = 0

    def count(self, step_index: int, pairs: int) -> None:
        if step_index + 1 == self.warmup:
            synchronize(self.device)
            self.start = time.perf_counter()
        elif self.start is not None:
            self.pairs += pairs

    def rate(self, now: float) -> float:
        return self.pairs / (now - self.start) if self.start is not None and now > self.start else math.nan


def _fps_text(rate: float) -> str:
    """Pairs/s for the seed's "FPS:" log lines; steps inside the warm-up are not timed."""
    return "(warm-up)" if math.isnan(rate) else f"{rate:.1f}"


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
    run = _set_up(cfg, ctx, run_dir, logger)
    _restore_or_start(run)
    run.step = _train_step(run)
    train_loader, sampler, val_loader, info = build_loaders(cfg, ctx, run.device)
    _open_records(run, info)
    run_start = time.perf_counter()
    global_step = run.start_epoch * info["steps_per_epoch"]
    with npu_runtime.profiler(run.device, cfg.npu_options, run_dir) as run.profiler:
        for epoch in range(run.start_epoch, cfg.epochs):
            sampler.set_epoch(epoch)
            lr = run.optimizer.param_groups[0]["lr"]
            train_loss, rate, global_step = _train_epoch(run, epoch, train_loader, info["steps_per_epoch"],
                                                         global_step, progress, run_start)
            _end_epoch(run, epoch, lr, train_loss, rate, val_loader, global_step, run_start)
    return _finish(run, time.perf_counter() - run_start)


def _set_up(cfg: TrainConfig, ctx: DistributedContext, run_dir: Path, logger) -> _Run:
    """Device, network, optimizer, schedule and loss scaling; a layout or compile the device lacks fails here.

    The device is made current before anything asks it what it can do, so a rank (or a 1p run on
    ``ASCEND_DEVICE_ID``'s card) never opens a context on another card.
    """
    npu_runtime.apply_environment(cfg.npu_options)
    device = resolve_device(cfg.device, ctx.local_rank if ctx.world_size > 1 else None)
    npu_runtime.check_options(device, cfg.npu_options)
    set_current(device)
    for setting in npu_runtime.apply_runtime(device, cfg.npu_options):
        logger.info(f"npu_options: {setting}")
    amp_dtype = autocast_dtype(device, cfg.amp)
    channels_last = use_channels_last(device, cfg.channels_last)
    check_compile(device, cfg.compile)
    tune_backend(device)
    seed_everything(derive_seed(cfg.seed, "model-init"))  # same initial weights on every rank
    model = build_model(cfg.width, cfg.head_bias).to(device.torch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    scale = lr_scale(cfg, ctx.world_size)
    optimizer = build_optimizer(model, cfg, scale)
    scheduler = build_scheduler(optimizer, cfg)
    scaling = make_grad_scaler(device, cfg.amp, cfg.loss_scale)
    _, non_blocking = uploads(device, cfg.npu_options.pinned_memory)
    return _Run(cfg, ctx, run_dir, logger, device, amp_dtype, channels_last, model, optimizer, scheduler,
                scaling.scaler, scaling.update, scaling.static, scale, non_blocking,
                precision_in_effect(device, amp_dtype))


def _restore_or_start(run: _Run) -> None:
    """Resume from ``last.pth`` when asked and every rank agrees; a fresh run clears older epochs."""
    cfg, ctx, logger = run.cfg, run.ctx, run.logger
    if ctx.is_main:
        for partial in remove_partial_files(run.run_dir):
            logger.info(f"removed {partial}, a checkpoint write cut short by a crash")
    last = checkpoint_dir(run.run_dir) / "last.pth"
    resume, reports = agree_on_start(cfg, ctx, run.run_dir, logger)  # global rank 0 decides for every rank
    if resume:
        ckpt = resume_checkpoint(ctx, run.run_dir, reports, run.device.torch, logger)
        if abs(float(ckpt["width"]) - cfg.width) > 1e-9:
            raise ValueError(f"{last} was trained with width {ckpt['width']}, the config says {cfg.width}")
        load_model_state(run.model, ckpt)
        run.optimizer.load_state_dict(ckpt["optimizer"])
        run.scheduler.load_state_dict(ckpt["scheduler"])
        if ckpt["scaler"] and run.scaler.is_enabled():
            run.scaler.load_state_dict(ckpt["scaler"])
        elif run.scaler.is_enabled():
            logger.info("the checkpoint was trained without fp16 loss scaling: the GradScaler starts fresh")
        restore_rng_states(ckpt["rng"])
        run.start_epoch, run.elapsed_before = int(ckpt["epoch"]), float(ckpt.get("elapsed_s", 0.0))
        logger.info(f"Resuming from {ckpt['path']} (epoch {run.start_epoch} of {cfg.epochs})")
    elif cfg.resume:
        logger.info(f"resume requested but {last} does not exist: starting fresh")
    if run.start_epoch == 0 and ctx.is_main:
        stale = list(epoch_checkpoints(run.run_dir).values())
        for path in stale:  # an earlier run's epochs would pass for this run's in a sweep
            path.unlink()
        if stale:
            logger.info(f"fresh run: removed {len(stale)} checkpoint(s) of an earlier run in {run.run_dir}")


def _train_step(run: _Run) -> TrainStep:
    cfg = run.cfg
    net = run.ctx.wrap_model(run.model)
    if cfg.compile:
        net = torch.compile(net)
    return TrainStep(net, run.optimizer, run.device, run.amp_dtype, run.scaler, cfg.r_pos, cfg.r_neg,
                     cfg.geometry.total_stride, loss_fn=lambda *a: balanced_logistic_loss(*a),
                     scale_update=run.scale_update, labels_follow_shift=cfg.labels_follow_shift,
                     static_scale=run.static_scale)


def _open_records(run: _Run, info: dict) -> None:
    """metrics.csv (cut back to the resumed epoch), the untrained checkpoint and config, the start lines."""
    cfg, ctx, logger = run.cfg, run.ctx, run.logger
    if info["shm_note"] and ctx.is_main:
        logger.warning(info["shm_note"])
    if ctx.is_main:
        run.metrics = MetricsCsv(run.run_dir / "metrics.csv",
                                 keep_through_epoch=run.start_epoch if run.start_epoch else None)
    if ctx.is_main and run.start_epoch == 0:
        save_checkpoint(run.run_dir, 0, run.state(0.0))
        (run.run_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=2))
    global_batch = cfg.batch_size * ctx.world_size
    logger.info(f"device {run.device} ({device_name(run.device)}), precision {run.precision}, "
                f"batch {cfg.batch_size} per device x {ctx.world_size} rank(s) = global batch {global_batch}, "
                f"BN statistics {cfg.bn_policy if ctx.world_size > 1 else 'single process'}, "
                f"width {cfg.width}, {info['train_videos']} train / "
                f"{info['val_videos']} val videos from {info['store']}, {info['steps_per_epoch']} steps per epoch")
    lr_warmup = lr_warmup_steps(cfg, run.lr_scale, info["steps_per_epoch"])
    logger.info(f"lr_scaling {cfg.lr_scaling}: lr {cfg.lr:g} x {run.lr_scale:g} = {cfg.lr * run.lr_scale:g} at "
                f"global batch {global_batch} ({ctx.world_size} rank(s)), {info['steps_per_epoch']} steps per epoch"
                + (f", warm-up from {cfg.lr:g} over {lr_warmup} steps" if lr_warmup else ""))
    run.model.train()


def _train_epoch(run: _Run, epoch: int, loader, steps: int, global_step: int, progress: bool | None,
                 run_start: float) -> tuple[float, float, int]:
    """One epoch of steps; returns (mean loss over the ranks, pairs/s after warm-up, global step)."""
    cfg, ctx, optimizer = run.cfg, run.ctx, run.optimizer
    lr_warmup = lr_warmup_steps(cfg, run.lr_scale, steps)
    epoch_lrs = [g["lr"] for g in optimizer.param_groups]
    loss_sum = torch.zeros((), device=run.device.torch)
    interval_sum = torch.zeros((), device=run.device.torch)
    interval_n = 0
    rate = _PairRate(max(1, min(cfg.warmup_steps, steps - 1)), run.device)
    batches = progress_mod.track(loader, total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}",
                                 enabled=progress if ctx.is_main else False, log=run.logger.info,
                                 unit="batch", size=lambda batch: len(batch[0]), size_unit="pair")
    for i, (z, x, target_offsets) in enumerate(batches):
        z = to_network_input(z, run.device, run.channels_last, run.non_blocking)
        x = to_network_input(x, run.device, run.channels_last, run.non_blocking)
        if global_step <= lr_warmup and lr_warmup:  # the last pass restores the scheduled lr
            for group, base in zip(optimizer.param_groups, epoch_lrs):
                group["lr"] = base * warmup_factor(run.lr_scale, global_step, lr_warmup)
        loss = run.step(z, x, target_offsets)
        run.profiler.step()
        loss_sum += loss
        interval_sum += loss
        interval_n += 1
        global_step += 1
        rate.count(i, z.shape[0] * ctx.world_size)
        if (i + 1) % cfg.log_every == 0 or i + 1 == steps:
            interval_loss = float(ctx.all_reduce_sum(interval_sum) / (interval_n * ctx.world_size))
            _check_finite(interval_loss, epoch, global_step, run.run_dir)
            _log_interval(run, epoch, i, steps, global_step, interval_loss, rate.rate(time.perf_counter()),
                          run_start)
            interval_sum.zero_()
            interval_n = 0
    train_loss = float(ctx.all_reduce_sum(loss_sum) / (steps * ctx.world_size))
    _check_finite(train_loss, epoch, global_step, run.run_dir)
    synchronize(run.device)
    return train_loss, rate.rate(time.perf_counter()), global_step


def _log_interval(run: _Run, epoch: int, i: int, steps: int, global_step: int, loss: float, rate: float,
                  run_start: float) -> None:
    """A metrics.csv step row and the seed's ``Epoch: [e][i/n] Loss: ... FPS: ...`` line (rank 0)."""
    if not run.ctx.is_main:
        return
    # DDP all-reduces gradients before the overflow check: every rank skips alike.
    overflow = int(run.step.overflow_steps.item()) if run.scaler.is_enabled() else None
    lr = run.optimizer.param_groups[0]["lr"]
    run.metrics.write(kind="step", epoch=epoch + 1, step=global_step, loss=loss, lr=lr, pairs_per_s=rate,
                      seconds=run.elapsed_before + time.perf_counter() - run_start, overflow_skipped=overflow)
    run.logger.info(f"Epoch: [{epoch + 1}][{i + 1}/{steps}] Loss: {loss:.4f} FPS: {_fps_text(rate)} lr: {lr:.3g}")


def _end_epoch(run: _Run, epoch: int, lr: float, train_loss: float, rate: float, val_loader, global_step: int,
               run_start: float) -> None:
    """Validation, the schedule's step, the epoch's metrics row and checkpoint (rank 0), then a barrier."""
    val_loss = _validate(run.step, val_loader, run.ctx, run.channels_last)
    run.scheduler.step()
    elapsed = run.elapsed_before + time.perf_counter() - run_start
    row = {"epoch": epoch + 1, "loss": train_loss, "val_loss": val_loss, "lr": lr, "pairs_per_s": rate,
           "seconds": elapsed}
    run.rows.append(row)
    if run.ctx.is_main:
        run.metrics.write(kind="epoch", step=global_step, **row)  # before the checkpoint: resume keeps it
        path = save_checkpoint(run.run_dir, epoch + 1, run.state(elapsed))
        prune_checkpoints(run.run_dir, epoch + 1, run.cfg.epochs, run.cfg.keep_checkpoints)
        run.logger.info(f"Epoch: [{epoch + 1}/{run.cfg.epochs}] Loss: {train_loss:.4f} Val loss: {val_loss:.4f} "
                        f"FPS: {rate:.1f} lr: {lr:.3g} time: {elapsed:.1f}s checkpoint: {path}")
    run.ctx.barrier()


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


def _check_finite(value: float, epoch: int, global_step: int, run_dir: Path) -> None:
    if math.isfinite(value):
        return
    ckpts = epoch_checkpoints(run_dir)
    good = ckpts[max(ckpts)] if ckpts else epoch_path(run_dir, epoch)
    raise NonFiniteLossError(
        f"training loss is {value} at epoch {epoch + 1}, step {global_step}: stopped. The last good "
        f"state is {good} (also last.pth); resume from it with a lower lr, or amp='none' if "
        f"mixed precision overflowed.")


def _finish(run: _Run, seconds_this_session: float) -> dict[str, Any]:
    """``summary.json`` and the seed's closing lines (rank 0); every rank returns the summary."""
    summary = _summary(run, run.elapsed_before + seconds_this_session)
    if run.ctx.is_main:
        atomic_write_text(run.run_dir / "summary.json", json.dumps(summary, indent=2))
        run.logger.info(f"FPS: {summary['pairs_per_s']:.1f}")
        run.logger.info(f"Loss: {summary['final_loss']:.4f}")
        run.logger.info(f"Val loss: {summary['final_val_loss']:.4f}")
        run.logger.info(f"E2E training time: {summary['seconds']:.1f}s")
    return summary


def _summary(run: _Run, seconds: float) -> dict[str, Any]:
    cfg, rows = run.cfg, run.rows
    rates = [r["pairs_per_s"] for r in rows if math.isfinite(r["pairs_per_s"])]
    vals = [(r["val_loss"], r["epoch"]) for r in rows if math.isfinite(r["val_loss"])]
    best = min(vals) if vals else (math.nan, None)
    return {
        "run_dir": str(run.run_dir), "epochs": cfg.epochs, "epochs_this_session": len(rows),
        "resumed_from_epoch": run.start_epoch,
        "final_loss": rows[-1]["loss"] if rows else math.nan,
        "final_val_loss": rows[-1]["val_loss"] if rows else math.nan,
        "best_val_loss": best[0], "best_val_epoch": best[1],
        "pairs_per_s": sum(rates) / len(rates) if rates else math.nan,
        "seconds": seconds, "device": str(run.device), "device_name": device_name(run.device),
        "precision": run.precision, "batch_size": cfg.batch_size, "world_size": run.ctx.world_size,
        "width": cfg.width, "seed": cfg.seed,
        "checkpoint": str(checkpoint_dir(run.run_dir) / "last.pth"), "torch": torch.__version__,
    }
