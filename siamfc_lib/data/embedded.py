"""Make the embedded (synthetic) VID and OTB datasets for 01_curate when ``synthetic`` is set.

Thin on purpose: the generator is :mod:`siamfc_lib.data.synthetic` and the sizes are
``SyntheticConfig.preset`` (smoke, demo), so params files name a size with one word.
"""
from __future__ import annotations

from ..config.data import SyntheticConfig


def prepare_embedded(vid_root: str, otb_root: str, size: str = "demo", **overrides) -> dict:
    """Generate the embedded datasets at ``vid_root`` / ``otb_root`` when absent or stale."""
    from .synthetic import ensure_embedded_datasets

    return ensure_embedded_datasets(vid_root, otb_root, SyntheticConfig.preset(size, **overrides))
