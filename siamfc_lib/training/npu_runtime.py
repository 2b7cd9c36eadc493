"""The opt-in Ascend settings of ``npu_options``, applied in each rank the same way however it was started.

Environment settings (CPU binding, HCCL timeouts and interface, the task queue) must be in place
before torch_npu initialises the card and before HCCL starts, so :func:`apply_environment` runs at
the top of every training process (``training/run.py`` under torchrun or a ModelZoo shell loop, and
``train()`` in a notebook). Runtime settings (online compilation, the precision mode) and the
profiler need torch_npu and the rank's own card, so :func:`apply_runtime` runs after ``set_device``.
Facts from torch_npu 2.7.1's sources: ``torch_npu.npu.set_compile_mode(jit_compile=...)``,
``torch_npu.npu.set_option({"ACL_PRECISION_MODE": ...})`` (allow_fp32_to_fp16 or
must_keep_origin_dtype), ``CPU_AFFINITY_CONF`` read when the card is initialised,
``torch_npu.profiler.profile`` with ``schedule(wait, active, warmup)`` and ``tensorboard_trace_handler``.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator

from ..config.training import NpuOptions
from ..devices import Device, DeviceError, torch_npu_module

PRECISION_MODES = ("allow_fp32_to_fp16", "must_keep_origin_dtype")


def environment(options: NpuOptions) -> dict[str, str]:
    """The environment variables ``options`` asks for (empty when nothing is set)."""
    values = {"CPU_AFFINITY_CONF": options.cpu_affinity, "HCCL_CONNECT_TIMEOUT": options.hccl_connect_timeout_s,
              "HCCL_EXEC_TIMEOUT": options.hccl_exec_timeout_s, "HCCL_SOCKET_IFNAME": options.hccl_socket_ifname,
              "HCCL_IF_IP": options.hccl_if_ip, "TASK_QUEUE_ENABLE": options.task_queue}
    return {k: str(v) for k, v in values.items() if v is not None}


def apply_environment(options: NpuOptions) -> dict[str, str]:
    """Export :func:`environment` into this process (a variable the user exported wins, and is kept)."""
    applied = {}
    for key, value in environment(options).items():
        if key not in os.environ:
            os.environ[key] = value
            applied[key] = value
    return applied


def apply_runtime(device: Device, options: NpuOptions) -> list[str]:
    """Compile and precision modes on the rank's card (after ``set_device``); returns what was set."""
    done = []
    if device.kind != "npu":
        return done
    npu = torch_npu_module().npu
    if options.jit_compile is not None:
        npu.set_compile_mode(jit_compile=bool(options.jit_compile))
        done.append(f"jit_compile={options.jit_compile}")
    if options.precision_mode is not None:
        if options.precision_mode not in PRECISION_MODES:
            raise DeviceError(f"npu_options.precision_mode must be one of {list(PRECISION_MODES)}, got "
                              f"{options.precision_mode!r}")
        npu.set_option({"ACL_PRECISION_MODE": options.precision_mode})
        done.append(f"ACL_PRECISION_MODE={options.precision_mode}")
    return done


def check_options(device: Device, options: NpuOptions) -> None:
    """NPU-only settings asked for another device are an error, not silently ignored."""
    if device.kind == "npu" or options == NpuOptions():
        return
    raise DeviceError(f"npu_options are for Ascend NPUs, but this run trains on {device}: remove them "
                      f"(or use device: npu)")


@contextlib.contextmanager
def profiler(device: Device, options: NpuOptions, run_dir: str | Path) -> Iterator[Any]:
    """torch_npu's profiler over ``profile_steps`` = (wait, warmup, active) steps, or a no-op; call
    ``.step()`` after every training step. Traces go to ``run_dir/profiler`` (TensorBoard's format)."""
    if device.kind != "npu" or not options.profile_steps:
        yield _NoProfiler()
        return
    if len(options.profile_steps) != 3:
        raise DeviceError(f"npu_options.profile_steps is (wait, warmup, active), got {list(options.profile_steps)}")
    wait, warmup, active = (int(v) for v in options.profile_steps)
    prof = torch_npu_module().profiler
    with prof.profile(activities=[prof.ProfilerActivity.CPU, prof.ProfilerActivity.NPU],
                      schedule=prof.schedule(wait=wait, warmup=warmup, active=active, repeat=1),
                      on_trace_ready=prof.tensorboard_trace_handler(str(Path(run_dir) / "profiler"))) as session:
        yield session


class _NoProfiler:
    def step(self) -> None:
        pass
