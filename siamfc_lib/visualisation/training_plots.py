"""Figures of training (03, 04, the report): pairs with their labels, response maps, loss and rate curves."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from ..model.losses import batch_targets
from .canvas import save_figure


def _hwc_uint8(img: torch.Tensor) -> np.ndarray:
    """A float CHW (0..255) or uint8 HWC tensor as an HWC uint8 array."""
    arr = img.detach().cpu()
    if arr.ndim == 3 and arr.shape[0] == 3 and arr.shape[-1] != 3:
        arr = arr.permute(1, 2, 0)
    return arr.clamp(0, 255).to(torch.uint8).numpy()


def training_labels(cfg, offsets: torch.Tensor) -> np.ndarray:
    """The positives ``(N, H, W)`` each pair of a :class:`TrainConfig` run is trained against,
    given the pairs' target offsets (px) as :class:`PairDataset` returns them."""
    g = cfg.geometry
    side = g.response_size(g.train_instance_size)
    labels, _ = batch_targets((len(offsets), side, side), "cpu", cfg.r_pos, cfg.r_neg, g.total_stride, offsets,
                              cfg.labels_follow_shift)
    return labels.numpy()


def plot_pairs(exemplars: torch.Tensor, instances: torch.Tensor, labels: np.ndarray, n: int = 4):
    """Exemplar, instance, and the label map (positives) each instance is trained against."""
    n = min(n, len(exemplars))
    fig, axes = plt.subplots(3, n, figsize=(2.6 * n, 7.5), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(_hwc_uint8(exemplars[i]))
        axes[1, i].imshow(_hwc_uint8(instances[i]))
        axes[2, i].imshow(labels[i], cmap="gray", vmin=0, vmax=1)
        axes[0, i].set_title(f"pair {i}: exemplar")
        axes[1, i].set_title("instance")
        axes[2, i].set_title("label {}x{}".format(*labels[i].shape))
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


@torch.no_grad()
def response_maps(model: torch.nn.Module, exemplars: torch.Tensor, instances: torch.Tensor,
                  device: str | torch.device = "cpu", chunk: int = 8) -> np.ndarray:
    """Score maps ``(N, H, W)`` of float CHW pairs (0..255), ``chunk`` pairs at a time (64 pairs at once
    would hold every layer's activations of all of them in the notebook's kernel)."""
    model = model.to(device).eval()
    maps = [model(exemplars[i:i + chunk].float().to(device), instances[i:i + chunk].float().to(device))[:, 0].cpu()
            for i in range(0, len(exemplars), chunk)]
    return torch.cat(maps).numpy()


def plot_response_maps(exemplars: torch.Tensor, instances: torch.Tensor, maps: dict[str, np.ndarray], n: int = 4):
    """Each pair's instance beside one response map per model (e.g. before / after training)."""
    n = min(n, len(exemplars))
    cols = 2 + len(maps)
    fig, axes = plt.subplots(n, cols, figsize=(2.6 * cols, 2.6 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(_hwc_uint8(exemplars[i]))
        axes[i, 1].imshow(_hwc_uint8(instances[i]))
        for j, (name, m) in enumerate(maps.items()):
            axes[i, 2 + j].imshow(m[i], cmap="viridis")
            peak = np.unravel_index(np.argmax(m[i]), m[i].shape)
            axes[i, 2 + j].plot(peak[1], peak[0], "r+", ms=12)
            axes[i, 2 + j].set_title(name if i == 0 else "")
    axes[0, 0].set_title("exemplar")
    axes[0, 1].set_title("instance")
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig


def centre_hit_rate(maps: np.ndarray, radius: float = 2.0) -> float:
    """Fraction of maps whose peak lies within ``radius`` cells of the centre (the target)."""
    h, w = maps.shape[-2:]
    peaks = [np.unravel_index(np.argmax(m), m.shape) for m in maps]
    return float(np.mean([np.hypot(p[0] - (h - 1) / 2, p[1] - (w - 1) / 2) <= radius for p in peaks]))


def _column(rows: list[dict], key: str) -> np.ndarray:
    return np.array([float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows])


def training_curves(runs: dict[str, list[dict]], path: str | Path) -> Path:
    """Loss, validation loss, learning rate and pairs/s per epoch for each run (metrics.csv rows)."""
    fig = Figure(figsize=(11, 6.5), dpi=100)
    axes = fig.subplots(2, 2).ravel()
    panels = (("loss", "training loss"), ("val_loss", "validation loss"), ("lr", "learning rate"),
              ("pairs_per_s", "training pairs/s (after warm-up)"))
    for label, rows in runs.items():
        steps = [r for r in rows if r.get("kind") == "step"]
        epochs = [r for r in rows if r.get("kind") == "epoch"]
        # Step rows sit at their fraction of the run: global step / steps per epoch.
        steps_per_epoch = max(1.0, float(epochs[-1]["step"]) / float(epochs[-1]["epoch"])) if epochs else 1.0
        for ax, (key, title) in zip(axes, panels):
            if key == "loss" and steps:
                ax.plot(_column(steps, "step") / steps_per_epoch, _column(steps, key), label=label)
            else:
                ax.plot(_column(epochs, "epoch"), _column(epochs, key), marker="o", ms=3, label=label)
            ax.set(title=title, xlabel="epoch")
            if key == "lr":
                ax.set_yscale("log")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return save_figure(fig, path)
