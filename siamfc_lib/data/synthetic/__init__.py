"""The embedded dataset: small ILSVRC2015-VID and OTB2015 trees generated from real photos.

Deterministic by seed (byte-identical files for the same seed and config), offline, and in
exactly the real on-disk formats, so the real loaders, curation and evaluation run on it
unchanged. See ``SyntheticConfig`` (siamfc_lib.config.data) for sizes and presets.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ...config.data import SYNTHETIC_PRESETS, SyntheticConfig
from .otb import write_otb_tree
from .tree import build_tree, ensure_tree, tree_state
from .vid import VID_WNIDS, write_vid_tree

__all__ = ["generate_vid", "generate_otb", "ensure_embedded_datasets", "tree_state", "VID_WNIDS",
           "SyntheticConfig", "SYNTHETIC_PRESETS"]


def generate_vid(root: str | Path, cfg: SyntheticConfig | None = None, log: Callable[[str], None] = print) -> dict:
    """(Re)generate the VID-format tree at ``root`` (``root/Data/VID/...``); return a summary."""
    return build_tree(root, "vid", cfg or SyntheticConfig(), write_vid_tree, log)


def generate_otb(root: str | Path, cfg: SyntheticConfig | None = None, log: Callable[[str], None] = print) -> dict:
    """(Re)generate the OTB-format tree at ``root`` (``root/<Seq>/img/...``); return a summary."""
    return build_tree(root, "otb", cfg or SyntheticConfig(), write_otb_tree, log)


def ensure_embedded_datasets(vid_root: str | Path | None, otb_root: str | Path | None,
                             cfg: SyntheticConfig | None = None, log: Callable[[str], None] = print) -> dict:
    """Make each tree only when it is absent, incomplete or from another config; None skips one.

    Returns ``{"vid": summary, "otb": summary}`` with ``status`` generated | present | not synthetic.
    """
    cfg = cfg or SyntheticConfig()
    out: dict = {}
    if vid_root is not None:
        out["vid"] = ensure_tree(vid_root, "vid", cfg, write_vid_tree, log)
    if otb_root is not None:
        out["otb"] = ensure_tree(otb_root, "otb", cfg, write_otb_tree, log)
    return out
