"""What a reader of the report needs beside each number: which data set, which device, which attribute.

The embedded OTB-format set (generated from photographs by ``siamfc_lib.data.synthetic``)
and OTB2015 have the same layout and folder names, so a table that says only "OTB" passes
synthetic numbers off as benchmark ones. An evaluation run therefore records its data set
and device in ``eval_info.json`` (:func:`write_eval_info`).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..data.manifest import COLUMNS_NAME, MANIFEST_NAME, Manifest
from ..data.otb_attributes import ATTRIBUTE_DESCRIPTIONS
from ..io_utils import atomic_write_text

EMBEDDED_OTB = "embedded OTB-format (synthetic)"
OTB2015 = "OTB2015"
EVAL_INFO = "eval_info.json"
SYNTHETIC_PROVENANCE = "SYNTHETIC.json"   # written by the embedded-dataset generator at the tree's root

# "IV" -> "Illumination Variation" (the OTB2015 attribute names before their definitions).
ATTRIBUTE_NAMES = {code: text.split(":")[0].strip() for code, text in ATTRIBUTE_DESCRIPTIONS.items()}


def attribute_name(code: str) -> str:
    return ATTRIBUTE_NAMES.get(code, code)


def dataset_label(otb_root: str | Path) -> str:
    """"embedded OTB-format (synthetic)", "OTB2015" (98 or more sequence folders), else the folder named."""
    root = Path(otb_root)
    if (root / SYNTHETIC_PROVENANCE).exists():
        return EMBEDDED_OTB
    folders = sum(1 for p in root.iterdir() if p.is_dir()) if root.is_dir() else 0
    return OTB2015 if folders >= 98 else f"OTB-format folder {root.name} ({folders} sequences)"


def training_data_label(train_run_dir: str | Path) -> str:
    """The data set a training run read, from its ``config.json`` and the curation manifest's source.

    Relative paths resolve from the working directory (the project root in the notebooks).
    A real-scale manifest is hundreds of MB: the columnar one is memory-mapped (its header holds
    ``source``); of a first-format ``manifest.json`` only the tail, where ``source`` is, is read.
    """
    try:
        data_path = Path(json.loads((Path(train_run_dir) / "config.json").read_text())["data_path"])
        if (data_path / COLUMNS_NAME).exists():   # memory-mapped: only the header is read
            source = Path(Manifest.load(data_path, convert=False).source)
        else:
            with open(data_path / MANIFEST_NAME, "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - 65536))
                tail = f.read().decode("utf-8", "replace")
            source = Path(json.loads('"' + re.findall(r'"source":\s*"((?:[^"\\]|\\.)*)"', tail)[-1] + '"'))
    except (OSError, KeyError, IndexError, ValueError):
        return "not recorded"
    return "embedded VID-format (synthetic)" if (source / SYNTHETIC_PROVENANCE).exists() else "ILSVRC2015-VID"


def write_eval_info(run_dir: str | Path, otb_root: str | Path, device, device_name: str,
                    checkpoint: str | Path | None = None) -> dict:
    """``checkpoint`` (a .pth or a training run folder) lets the report tell evaluated runs from the rest."""
    info = {"dataset": dataset_label(otb_root), "otb_root": str(Path(otb_root).resolve()),
            "device": str(device), "device_name": device_name, "cpu_count": os.cpu_count(),
            "checkpoint": str(Path(checkpoint).resolve()) if checkpoint else None}
    atomic_write_text(Path(run_dir) / EVAL_INFO, json.dumps(info, indent=2))
    return info


def read_eval_info(run_dir: str | Path) -> dict:
    """The run's ``eval_info.json``; runs written before it existed get an empty dict."""
    path = Path(run_dir) / EVAL_INFO
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
