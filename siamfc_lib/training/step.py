"""One optimisation step on a batch of pairs, shared by the trainer and the benchmark.

Stays on the device: it returns the loss as a tensor and never calls ``.item()``, so the
host only waits at the caller's logging intervals.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from ..devices import Device
from ..model.losses import balanced_logistic_loss


def to_network_input(batch: torch.Tensor, device: Device, channels_last: bool) -> torch.Tensor:
    """uint8 NHWC (the loader's raw batch) -> float NCHW on the device.

    Converting after the transfer moves 4x fewer bytes; NHWC viewed as NCHW already has the
    channels_last layout, so only the plain layout needs a copy.
    """
    x = batch.to(device.torch, non_blocking=True).permute(0, 3, 1, 2).float()
    return x if channels_last else x.contiguous()


def tune_backend(device: Device) -> None:
    """Let cuDNN pick the fastest kernels for the fixed pair shapes (GPU only; CPU stays exact)."""
    if device.kind == "cuda":
        torch.backends.cudnn.benchmark = True


def autocast_context(device: Device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.kind, dtype=dtype)


class TrainStep:
    """forward (autocast) -> balanced loss (fp32) -> backward (scaled when fp16) -> SGD."""

    def __init__(self, net: nn.Module, optimizer: torch.optim.Optimizer, device: Device,
                 amp_dtype: torch.dtype | None, scaler: torch.amp.GradScaler,
                 r_pos: float = 16.0, r_neg: float = 0.0, stride: int = 8, loss_fn=None):
        self.net, self.optimizer, self.device, self.amp_dtype, self.scaler = net, optimizer, device, amp_dtype, scaler
        self.r_pos, self.r_neg, self.stride = r_pos, r_neg, stride
        self.loss_fn = loss_fn or balanced_logistic_loss

    def loss(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        with autocast_context(self.device, self.amp_dtype):
            logits = self.net(z, x)
        return self.loss_fn(logits, self.r_pos, self.r_neg, self.stride)

    def __call__(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        loss = self.loss(z, x)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach()
