"""The embedded dataset: small ILSVRC2015-VID and OTB2015 trees generated from real photos, and
look-alikes of the other benchmarks (GOT-10k, LaSOT, UAV123, NfS, TColor128, DTB70).

Deterministic by seed (byte-identical files for the same seed and config), offline, and in
exactly the real on-disk formats, so the real loaders, curation and evaluation run on it
unchanged. See ``SyntheticConfig`` (siamfc_lib.config.data) for sizes and presets.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ...config.data import SYNTHETIC_PRESETS, SyntheticConfig
from .dtb70 import write_dtb70_tree
from .got10k import write_got10k_tree
from .lasot import write_lasot_tree
from .nfs import write_nfs_tree
from .otb import write_otb_tree
from .tc128 import write_tc128_tree
from .tree import build_tree, ensure_tree, tree_state
from .uav123 import write_uav123_tree
from .vid import VID_WNIDS, write_vid_tree

__all__ = ["generate_vid", "generate_otb", "ensure_embedded_datasets", "ensure_look_alike", "tree_state", "VID_WNIDS",
           "SyntheticConfig", "SYNTHETIC_PRESETS", "LOOK_ALIKES"]

# Every tree kind the generator writes (the benchmark readers' ``look_alike`` names one).
LOOK_ALIKES = {"vid": write_vid_tree, "otb": write_otb_tree, "got10k": write_got10k_tree, "lasot": write_lasot_tree,
               "uav123": write_uav123_tree, "nfs": write_nfs_tree, "tc128": write_tc128_tree,
               "dtb70": write_dtb70_tree}


def generate_vid(root: str | Path, cfg: SyntheticConfig | None = None, log: Callable[[str], None] = print) -> dict:
    """(Re)generate the VID-format tree at ``root`` (``root/Data/VID/...``); return a summary."""
    return build_tree(root, "vid", cfg or SyntheticConfig(), write_vid_tree, log)


def generate_otb(root: str | Path, cfg: SyntheticConfig | None = None, log: Callable[[str], None] = print) -> dict:
    """(Re)generate the OTB-format tree at ``root`` (``root/<Seq>/img/...``); return a summary."""
    return build_tree(root, "otb", cfg or SyntheticConfig(), write_otb_tree, log)


def ensure_look_alike(kind: str, root: str | Path, cfg: SyntheticConfig | None = None,
                      log: Callable[[str], None] = print) -> dict:
    """Make the ``kind`` tree (a key of :data:`LOOK_ALIKES`) at ``root`` only when absent, incomplete
    or from another config; a folder this generator did not write is used as it is."""
    if kind not in LOOK_ALIKES:
        raise ValueError(f"no embedded look-alike of kind {kind!r}; known: {', '.join(LOOK_ALIKES)}")
    return ensure_tree(root, kind, cfg or SyntheticConfig(), LOOK_ALIKES[kind], log)


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
