"""``meta.json`` beside the exported graphs: what was exported, from which checkpoint, and how to read it.

The runners trust nothing else: a graph whose inputs, outputs or bytes differ from what the export
recorded is refused (:func:`check_graph_file`), so a foreign or edited ONNX file never tracks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io_utils import atomic_write_text, file_sha256

FORMAT = "siamfc-deploy/1"
META = "meta.json"
INPUT_NAME = "actual_input_1"    # the Ascend ModelZoo's SiamFC name, so its atc lines apply unchanged
OUTPUT_NAME = "features"
BRANCHES = ("exemplar", "search")


class DeployError(ValueError):
    """An export folder, graph or runtime that cannot be used as asked; the message names the fix."""


@dataclass
class GraphInfo:
    """One branch's file and signature (``None`` in a shape: the dynamic batch)."""

    file: str
    input_name: str
    input_shape: list[int | None]
    output_name: str
    output_shape: list[int | None]
    sha256: str = ""


@dataclass
class DeployMeta:
    checkpoint: str
    checkpoint_sha256: str
    width: float
    out_scale: float
    head_bias: float | None
    scale_num: int
    exemplar_size: int
    instance_size: int
    opset: int
    dynamic_batch: bool
    exporter: str
    tracker: dict[str, Any]
    graphs: dict[str, GraphInfo] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> str:
        data = {k: v for k, v in vars(self).items() if k != "graphs"}
        data["graphs"] = {name: vars(g) for name, g in self.graphs.items()}
        return json.dumps(data, indent=2) + "\n"

    def write(self, out_dir: str | Path) -> Path:
        path = Path(out_dir) / META
        atomic_write_text(path, self.to_json())
        return path


def read_meta(export_dir: str | Path) -> DeployMeta:
    """The export's description; a folder that is not an export raises :class:`DeployError` naming the fix."""
    path = Path(export_dir) / META
    if not path.is_file():
        raise DeployError(f"{export_dir} is not an export folder (no {META}); write one with "
                          f"`python -m siamfc_lib.export CHECKPOINT --format onnx --out {export_dir}`")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DeployError(f"{path} is not valid JSON ({exc}); export again") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DeployError(f"{path} is not a SiamFC export description ({FORMAT}); export again")
    graphs = {name: GraphInfo(**g) for name, g in data.pop("graphs").items()}
    missing = [b for b in BRANCHES if b not in graphs]
    if missing:
        raise DeployError(f"{path} names no {' or '.join(missing)} graph; export again")
    return DeployMeta(**data, graphs=graphs)


def check_graph_file(path: Path, info: GraphInfo) -> None:
    """The file exists and is the one the export wrote (same sha256)."""
    if not path.is_file():
        raise DeployError(f"graph {path} is missing; export again with `python -m siamfc_lib.export`")
    if info.sha256 and file_sha256(path) != info.sha256:
        raise DeployError(f"graph {path} is not the file the export wrote (its sha256 differs from "
                          f"{META}); export again rather than editing the graphs")
