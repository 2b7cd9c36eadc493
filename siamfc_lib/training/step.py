"""One optimisation step on a batch of pairs, shared by the trainer and the benchmark.

Stays on the device: it returns the loss as a tensor and never calls ``.item()``, so the
host only waits at the caller's logging intervals.
"""
from __future__ import annotations

import torch
from torch import nn

from ..devices import Device, autocast, capabilities
from ..model.losses import balanced_logistic_loss


def to_network_input(batch: torch.Tensor, device: Device, channels_last: bool,
                     non_blocking: bool = False) -> torch.Tensor:
    """uint8 NHWC (the loader's raw batch) -> float NCHW on the device.

    Converting after the transfer moves 4x fewer bytes; NHWC viewed as NCHW already has the
    channels_last layout, so only the plain layout needs a copy. ``non_blocking`` only for a
    pinned batch (:func:`siamfc_lib.devices.uploads`).
    """
    x = batch.to(device.torch, non_blocking=non_blocking).permute(0, 3, 1, 2).float()
    return x if channels_last else x.contiguous()


def tune_backend(device: Device) -> None:
    """Let cuDNN pick the fastest kernels for the fixed pair shapes (GPU only; CPU stays exact)."""
    if capabilities(device).cudnn_benchmark:
        torch.backends.cudnn.benchmark = True


def autocast_context(device: Device, dtype: torch.dtype | None):
    return autocast(device, dtype)


class TrainStep:
    """forward (autocast) -> balanced loss (fp32) -> backward (scaled when fp16) -> SGD.

    ``overflow_steps`` counts, on the device, the steps skipped because a gradient overflowed
    (with DDP the gradients are all-reduced before the check, so every rank skips the same
    steps). ``scale_update`` is passed to ``scaler.update()``: a number keeps torch's scale
    static. ``static_scale``: the step checks the unscaled gradients itself and skips the
    optimizer on an overflow, because torch_npu's static GradScaler checks nothing.
    """

    def __init__(self, net: nn.Module, optimizer: torch.optim.Optimizer, device: Device,
                 amp_dtype: torch.dtype | None, scaler: torch.amp.GradScaler,
                 r_pos: float = 16.0, r_neg: float = 0.0, stride: int = 8, loss_fn=None,
                 scale_update: float | None = None, labels_follow_shift: bool = False, static_scale: bool = False):
        self.net, self.optimizer, self.device, self.amp_dtype, self.scaler = net, optimizer, device, amp_dtype, scaler
        self.static_scale = static_scale
        self.r_pos, self.r_neg, self.stride = r_pos, r_neg, stride
        self.labels_follow_shift = labels_follow_shift
        self.loss_fn = loss_fn or balanced_logistic_loss
        self.scale_update = scale_update
        self.overflow_steps = torch.zeros((), device=device.torch)

    def loss(self, z: torch.Tensor, x: torch.Tensor, target_offsets: torch.Tensor | None = None) -> torch.Tensor:
        with autocast_context(self.device, self.amp_dtype):
            logits = self.net(z, x)
        return self.loss_fn(logits, self.r_pos, self.r_neg, self.stride, target_offsets,
                            self.labels_follow_shift)

    def __call__(self, z: torch.Tensor, x: torch.Tensor, target_offsets: torch.Tensor | None = None) -> torch.Tensor:
        loss = self.loss(z, x, target_offsets)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.static_scale and self.scaler.is_enabled():
            self._step_if_finite()
            return loss.detach()
        self.scaler.step(self.optimizer)
        if self.scaler.is_enabled():
            found = [f.to(self.overflow_steps.device) for f in self.scaler._found_inf_per_device(self.optimizer).values()]
            if found:
                self.overflow_steps += (torch.stack(found).sum() > 0).float()
        self.scaler.update(self.scale_update)
        return loss.detach()

    def _step_if_finite(self) -> None:
        """Unscale, then step only when every gradient is finite (one host read per step, as torch's
        own scaler does); an overflow is counted and its step skipped."""
        self.scaler.unscale_(self.optimizer)
        grads = [p.grad for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        finite = torch.stack([torch.isfinite(g).all() for g in grads]).all() if grads else torch.tensor(True)
        if bool(finite):
            self.optimizer.step()
        else:
            self.overflow_steps += 1
        self.scaler.update(self.scale_update)
