"""``python -m siamfc_lib.training.run --config cfg.yaml``: train in this process.

The file holds 03/04's training parameters (YAML or JSON, flat): TrainConfig fields, plus
optionally ``preset`` (paper | ascend, default paper), ``recipe`` (a file of training settings,
beneath the file's own keys) and ``progress``. Unknown keys are an error.

Under torchrun (``RANK``/``WORLD_SIZE``) or a ModelZoo shell loop (``RANK_ID``/``RANK_SIZE``)
with more than one process, this process joins the group as its rank and trains with DDP.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import ConfigError, TrainConfig, load_params, train_config
from ..notebook_params import LAUNCH_NAMES, apply_recipe
from ..devices import check_no_silent_fallback, resolve_device
from .consensus import CollectiveError, collective_failure_message, is_collective_failure
from .distributed import (LaunchEnvError, TorchDistributedContext, check_distinct_devices, init_process_group,
                          rank_from_env, shutdown)
from .npu_runtime import apply_environment
from .trainer import train


def load_train_config(path: str | Path, **overrides) -> tuple[TrainConfig, bool | None]:
    """(config, progress) from a params file: preset, then the recipe, then the file's keys and ``overrides``.

    04_train_8p's launch parameters are left out: a ModelZoo loop may pass that notebook's file as is.
    """
    params = {**load_params(path), **overrides}
    try:
        values = apply_recipe(params, explicit=set(params))
        values = {k: v for k, v in values.items() if k not in LAUNCH_NAMES and k != "recipe"}
        progress = values.pop("progress", None)
        return train_config(values), progress
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def train_this_process(cfg: TrainConfig, progress: bool | None = None) -> dict:
    """Train as one process, or as this process's rank of a distributed job.

    ``npu_options``' environment is exported first, before torch_npu opens the card or HCCL
    starts, so torchrun's ranks and a ModelZoo loop's processes get the same settings.
    """
    rank, local_rank, world_size = rank_from_env()
    apply_environment(cfg.npu_options)
    if world_size <= 1:
        return train(cfg, progress=progress)
    check_no_silent_fallback(cfg.device, world_size)
    device = resolve_device(cfg.device, local_rank)
    ctx = TorchDistributedContext(rank=rank, world_size=world_size, local_rank=local_rank, device=device,
                                  bn_policy=cfg.bn_policy)
    init_process_group(ctx, device, cfg.collective_timeout_s)
    try:
        check_distinct_devices(ctx, device)
        return train(cfg, ctx, progress=progress)
    except Exception as exc:
        if is_collective_failure(exc):
            raise CollectiveError(collective_failure_message(exc, rank, cfg.collective_timeout_s, cfg.run_dir)) from exc
        raise
    finally:
        shutdown()


def check_world_size(params: dict, world_size: int) -> None:
    """A params file that says ``npus`` (x ``nnodes``) must match the processes actually started."""
    if "npus" not in params or world_size <= 1:
        return
    expected = int(params["npus"]) * int(params.get("nnodes", 1))
    if expected != world_size:
        raise LaunchEnvError(f"world size mismatch: the params file says npus={params['npus']} x "
                             f"nnodes={params.get('nnodes', 1)} = {expected} processes, the launch variables say "
                             f"{world_size} (RANK_SIZE / WORLD_SIZE): make them agree (-p npus / RANK_SIZE)")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.training.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="YAML or JSON file of TrainConfig fields")
    parser.add_argument("--resume", action="store_true", help="continue from run_dir/checkpoints/last.pth")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=None,
                        help="accepted as the seed's scripts pass it; RANK_ID/ASCEND_DEVICE_ID or torchrun decide")
    args = parser.parse_args(argv)
    overrides = {"resume": True} if args.resume else {}
    cfg, progress = load_train_config(args.config, **overrides)
    check_world_size(load_params(args.config), rank_from_env()[2])
    summary = train_this_process(cfg, progress=progress)
    if rank_from_env()[0] == 0:
        print(json.dumps(summary, indent=2), flush=True)
    return summary


if __name__ == "__main__":
    main()
    sys.exit(0)
