"""Who am I in a multi-process run, and the torch.distributed calls the trainer needs.

Launch styles understood:

* torchrun (``python -m torch.distributed.run``): ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
  ``MASTER_ADDR``, ``MASTER_PORT`` -- the recommended one, and what 04_train_8p uses.
* Ascend ModelZoo shell loops (one ``python`` per card, no torchrun): ``RANK_ID``,
  ``RANK_SIZE`` and ``ASCEND_DEVICE_ID`` (or ``DEVICE_ID``); the master address and port
  default to 127.0.0.1:29688 when the script does not export them.

Nothing here replaces torch.distributed; it reads the environment, joins the process group
and fills in the hooks of :class:`~siamfc_lib.training.context.DistributedContext`.
"""
from __future__ import annotations

import datetime
import os
import socket
from dataclasses import dataclass
from typing import Mapping

import torch
import torch.distributed as dist
from torch import nn

from ..devices import Device, distributed_backend, set_current
from .context import DistributedContext


class LaunchEnvError(RuntimeError):
    """The launch variables describe a job that cannot work; the message names the fix."""


_MODELZOO_FIX = ("Export RANK_ID inside the launch loop (`for i in $(seq 0 7); do export RANK_ID=$i "
                 "ASCEND_DEVICE_ID=$i; python -m siamfc_lib.training.run --config cfg.json & done; wait`), "
                 "or launch with torchrun / 04_train_8p (`-p npus 8`)")


def _int_var(env: Mapping[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise LaunchEnvError(f"{name}={env[name]!r} is not an integer") from None


def rank_from_env(env: Mapping[str, str] | None = None) -> tuple[int, int, int]:
    """``(rank, local_rank, world_size)`` from torchrun's or ModelZoo's variables; (0, 0, 1) if none.

    ModelZoo shell loops that forget to export ``RANK_ID`` (the seed's own 8p script) would
    start RANK_SIZE independent rank-0 runs; that, a rank outside the world and two world
    sizes that disagree raise :class:`LaunchEnvError` instead.
    """
    env = os.environ if env is None else env
    if "WORLD_SIZE" in env and "RANK" in env:
        rank, world = _int_var(env, "RANK"), _int_var(env, "WORLD_SIZE")
        if "RANK_SIZE" in env and _int_var(env, "RANK_SIZE") != world:
            raise LaunchEnvError(f"world size mismatch: torchrun says WORLD_SIZE={world} but RANK_SIZE="
                                 f"{env['RANK_SIZE']} is also set: unset RANK_SIZE (torchrun's variables win) "
                                 f"or make them agree")
        if not 0 <= rank < world:
            raise LaunchEnvError(f"RANK={rank} is outside WORLD_SIZE={world}")
        return rank, int(env.get("LOCAL_RANK", rank)), world
    if "RANK_SIZE" in env:
        world = _int_var(env, "RANK_SIZE")
        if "RANK_ID" not in env:
            if world <= 1:
                return 0, 0, 1
            raise LaunchEnvError(f"RANK_SIZE={world} is set but RANK_ID is not: every process would train as rank 0 "
                                 f"of its own run. {_MODELZOO_FIX}")
        rank = _int_var(env, "RANK_ID")
        if not 0 <= rank < world:
            raise LaunchEnvError(f"world size mismatch: RANK_ID={rank} is outside RANK_SIZE={world} (ranks are "
                                 f"0..{world - 1}): set RANK_SIZE to the number of processes the loop starts")
        local = env.get("ASCEND_DEVICE_ID", env.get("DEVICE_ID", env["RANK_ID"]))
        return rank, int(local), world
    return 0, 0, 1


def duplicate_devices(placements: list[tuple[str, str]]) -> str | None:
    """A message when two ranks (list index) share one accelerator on one host, else None."""
    seen: dict[tuple[str, str], int] = {}
    for rank, (host, device) in enumerate(placements):
        if device == "cpu":
            continue
        if (host, device) in seen:
            return (f"ranks {seen[(host, device)]} and {rank} both use {device} on {host}: each rank needs its own "
                    f"card. Give each process its own ASCEND_DEVICE_ID (or DEVICE_ID), e.g. ASCEND_DEVICE_ID=$RANK_ID "
                    f"in the launch loop, or unset it so each rank takes the card of its local rank")
        seen[(host, device)] = rank
    return None


def check_distinct_devices(ctx: DistributedContext, device: Device) -> None:
    """After joining the group: every rank on its own card (a shared ASCEND_DEVICE_ID would not be)."""
    if ctx.world_size <= 1 or not dist.is_initialized():
        return
    placements: list = [None] * ctx.world_size
    dist.all_gather_object(placements, (socket.gethostname(), device.name))
    message = duplicate_devices(placements)
    if message:
        raise LaunchEnvError(message)


@dataclass
class TorchDistributedContext(DistributedContext):
    """A rank of a torch.distributed job: DDP model, summed metrics, barriers."""

    device: Device | None = None
    bn_policy: str = "local"

    def wrap_model(self, model: nn.Module) -> nn.Module:
        return wrap_model(model, self, self.device, self.bn_policy)

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def barrier(self) -> None:
        if dist.is_initialized():
            dist.barrier()

    def all_gather_object(self, obj):
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast_object(self, obj, src: int = 0):
        box = [obj if self.rank == src else None]
        dist.broadcast_object_list(box, src=src)
        return box[0]


def init_process_group(ctx: DistributedContext, device: Device, timeout_s: float = 600.0) -> None:
    """Join the process group with the device's backend (gloo, nccl or hccl).

    The timeout bounds how long a rank waits for a dead peer in a collective.
    """
    if ctx.world_size <= 1 or dist.is_initialized():
        return
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29688")
    set_current(device)
    dist.init_process_group(distributed_backend(device), rank=ctx.rank, world_size=ctx.world_size,
                            timeout=datetime.timedelta(seconds=timeout_s))


def wrap_model(model: nn.Module, ctx: DistributedContext, device: Device, bn_policy: str = "local") -> nn.Module:
    """DistributedDataParallel with the chosen batch-norm statistics policy.

    * ``local``: every rank keeps its own running statistics (the seed's
      ``broadcast_buffers=False``); rank 0's are saved.
    * ``broadcast``: rank 0's buffers overwrite the others before each forward.
    * ``sync``: SyncBatchNorm, statistics over the global batch (CUDA/NPU only).
    """
    if ctx.world_size <= 1:
        return model
    if bn_policy == "sync":
        if device.kind == "cpu":
            raise ValueError("bn_policy='sync' needs CUDA or NPU devices; use 'local' or 'broadcast' on CPU")
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    device_ids = None if device.kind == "cpu" else [device.index]
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids,
                                               broadcast_buffers=(bn_policy == "broadcast"))


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
