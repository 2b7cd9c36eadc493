"""Make the embedded (synthetic) datasets for 01_curate when ``synthetic`` is set.

Thin on purpose: the generator is :mod:`siamfc_lib.data.synthetic` and the sizes are
``SyntheticConfig.preset`` (smoke, demo), so params files name a size with one word.
"""
from __future__ import annotations

from ..config.data import SyntheticConfig


def prepare_embedded(vid_root: str | None, otb_root: str | None, size: str = "demo", source: str = "vid",
                     got10k_root: str | None = None, **overrides) -> dict:
    """Generate the embedded datasets 01's ``source`` reads (VID, GOT-10k or both) and the OTB set,
    each only when absent or stale; returns ``{"vid" | "got10k" | "otb": summary}`` for those made."""
    from .synthetic import ensure_embedded_datasets, ensure_look_alike

    cfg = SyntheticConfig.preset(size, **overrides)
    made = ensure_embedded_datasets(vid_root if source in ("vid", "both") else None, otb_root, cfg)
    if source in ("got10k", "both") and got10k_root:
        made["got10k"] = ensure_look_alike("got10k", got10k_root, cfg)
    return made
