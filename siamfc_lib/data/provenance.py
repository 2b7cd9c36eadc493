"""Which data set a folder holds: the embedded look-alikes or the real benchmark.

The embedded OTB-format set (generated from photographs by ``siamfc_lib.data.synthetic``)
and OTB2015 have the same layout and folder names, so a table that says only "OTB" would pass
synthetic numbers off as benchmark ones. The generator writes :data:`SYNTHETIC_PROVENANCE` at
the root of every tree it makes; these labels read it.
"""
from __future__ import annotations

from pathlib import Path

SYNTHETIC_PROVENANCE = "SYNTHETIC.json"   # written by the embedded-dataset generator at a tree's root
EMBEDDED_OTB = "embedded OTB-format (synthetic)"
EMBEDDED_VID = "embedded VID-format (synthetic)"
OTB2015 = "OTB2015"
ILSVRC2015_VID = "ILSVRC2015-VID"
GOT10K_TRAIN = "GOT-10k train"
EMBEDDED_GOT10K_TRAIN = "embedded GOT-10k-format train (synthetic)"


def is_embedded(root: str | Path) -> bool:
    """The generator's mark at ``root`` or one level up (a GOT-10k split folder inside the tree)."""
    root = Path(root)
    return (root / SYNTHETIC_PROVENANCE).exists() or (root.parent / SYNTHETIC_PROVENANCE).exists()


def dataset_label(otb_root: str | Path) -> str:
    """"embedded OTB-format (synthetic)", "OTB2015" (98 or more sequence folders), else the folder named."""
    root = Path(otb_root)
    if is_embedded(root):
        return EMBEDDED_OTB
    folders = sum(1 for p in root.iterdir() if p.is_dir()) if root.is_dir() else 0
    return OTB2015 if folders >= 98 else f"OTB-format folder {root.name} ({folders} sequences)"


def training_source_label(vid_root: str | Path) -> str:
    """The label of the VID tree a curation was made from (its manifest's ``source``)."""
    return EMBEDDED_VID if is_embedded(vid_root) else ILSVRC2015_VID


def source_label(source: dict) -> str:
    """One curation source (``{"kind", "root", "subsets"}``) as reports name it."""
    if source.get("kind") == "got10k":
        return EMBEDDED_GOT10K_TRAIN if is_embedded(source.get("root", "")) else GOT10K_TRAIN
    return training_source_label(source.get("root", ""))


def training_sources_label(sources: list[dict]) -> str:
    """Every source of a curation, joined: ``ILSVRC2015-VID + GOT-10k train``."""
    return " + ".join(source_label(s) for s in sources) or "not recorded"
