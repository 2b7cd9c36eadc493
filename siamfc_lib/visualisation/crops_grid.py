"""Figures for the curation and LMDB notebooks: crops with their target, statistics, skips, speed.

They live here, not in the notebooks, so the notebooks stay thin reports and the plots are
importable and testable.
"""
from __future__ import annotations

import random
from collections import Counter

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from ..boxes import edges_xywh
from ..data.manifest import Manifest
from ..data.vid import VID_CLASSES


def sample_crops(manifest: Manifest, n: int, seed: int = 0) -> list[tuple[str, str, list[float]]]:
    """``(key, title, crop_box)`` for ``n`` crops drawn with a fixed seed across videos."""
    total = manifest.num_crops()
    out = []
    for i in random.Random(seed).sample(range(total), min(n, total)):  # crops in manifest order
        t = manifest.track_of_crop(i)
        wnid = manifest.wnids[manifest.track_wnid[t]]
        title = f"{VID_CLASSES.get(wnid, wnid)} t{int(manifest.trackid[t])} f{int(manifest.frame[i])}"
        out.append((manifest.key(i), title, manifest.crop_box[i].tolist()))
    return out


def plot_crop_grid(store, manifest: Manifest, n: int = 16, cols: int = 8, seed: int = 0):
    """Curated crops read through ``store`` with the target box (green) and the 127 exemplar
    region (dashed) that training cuts from the crop centre."""
    picks = sample_crops(manifest, n, seed)
    rows = max(1, -(-len(picks) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2 * cols, 2.2 * rows), squeeze=False)
    centre = (manifest.instance_size - 1) / 2
    exemplar = [centre, centre, manifest.exemplar_size, manifest.exemplar_size]
    for ax in axes.flat:
        ax.axis("off")
    for ax, (key, title, crop_box) in zip(axes.flat, picks):
        ax.imshow(store.get_rgb(key))
        x, y, w, h = edges_xywh(crop_box)
        ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor="lime", linewidth=1.5))
        x, y, w, h = edges_xywh(exemplar)
        ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor="white", linewidth=0.8, linestyle="--"))
        ax.set_title(title, fontsize=7)
    fig.suptitle(f"{len(picks)} curated {manifest.instance_size}x{manifest.instance_size} crops "
                 f"(from {store.describe()})", fontsize=9)
    fig.tight_layout()
    return fig


def plot_track_stats(manifest: Manifest):
    """Tracks per class and the distribution of track lengths (frames with a valid box)."""
    wnids = [manifest.wnids[w] for w in manifest.track_wnid]
    classes = Counter(VID_CLASSES.get(w, w) for w in wnids)
    lengths = manifest.track_lengths()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.5))
    names = sorted(classes, key=lambda k: -classes[k])
    ax1.bar(names, [classes[k] for k in names])
    ax1.set_ylabel("tracks")
    ax1.set_title(f"{len(lengths)} tracks in {len(manifest.video_names)} videos, {len(names)} classes")
    ax1.tick_params(axis="x", rotation=60, labelsize=7)
    ax2.hist(lengths, bins=30)
    ax2.set_xlabel("valid frames per track")
    ax2.set_ylabel("tracks")
    ax2.set_title(f"{int(lengths.sum())} crops")
    fig.tight_layout()
    return fig


def plot_skip_reasons(skipped: dict[str, int]):
    """Skipped items by reason; the prefix says the unit (frame, box, track, video)."""
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(len(skipped), 1) + 1))
    if not skipped:
        ax.text(0.5, 0.5, "nothing skipped", ha="center", va="center")
        ax.axis("off")
        return fig
    reasons = sorted(skipped)
    ax.barh(reasons, [skipped[r] for r in reasons])
    ax.set_xlabel("count (unit = prefix)")
    ax.set_title("skipped, by reason")
    fig.tight_layout()
    return fig


def plot_throughput(rates: dict[str, float], unit: str, title: str = "throughput"):
    """One bar per measured rate (e.g. crops/s total and per worker)."""
    fig, ax = plt.subplots(figsize=(6, 2.5))
    ax.barh(list(rates), list(rates.values()))
    for i, value in enumerate(rates.values()):
        ax.text(value, i, f" {value:,.0f}", va="center")
    ax.set_xlabel(unit)
    ax.set_title(title)
    fig.tight_layout()
    return fig
