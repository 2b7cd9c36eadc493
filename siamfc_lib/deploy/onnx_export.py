"""The two branches of a trained SiamFC as ONNX graphs, in the Ascend ModelZoo's shapes.

* ``exemplar.onnx``: ``actual_input_1`` (1, 3, 127, 127) -> ``features`` (1, C, 6, 6);
* ``search.onnx``: ``actual_input_1`` (1, 3S, 255, 255), the S scales' crops stacked on channels
  (scale-major, RGB within each) -> ``features`` (1, S*C, 22, 22), each scale's features in turn.

Inputs are RGB float 0..255, as the PyTorch tracker feeds its backbone. The cross-correlation and
its bias stay on the host (the project's own :class:`~siamfc_lib.model.heads.CorrelationHead`): a
graph for them would need the exemplar's features as a second input on every frame, which is what
TensorRT's parser and atc choke on in the peers' exports, for a 6x6 correlation that costs
microseconds on the host. ``dynamic_batch`` makes the first dimension free (batched evaluation).

Exported with torch's TorchScript-based exporter (``dynamo=False``): in torch 2.13 the dynamo
exporter needs the separate ``onnxscript`` package, and opset 11 (the ModelZoo's, which every
CANN release's atc reads) is the legacy exporter's ground.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from ..config.tracking import TrackerConfig
from ..io_utils import atomic_write_bytes, file_sha256
from ..model import SiamFC, build_model
from ..training.checkpoints import load_checkpoint, load_model_state, resolve_checkpoint
from .atc import write_atc_script
from .meta import INPUT_NAME, OUTPUT_NAME, DeployError, DeployMeta, GraphInfo

DEFAULT_OPSET = 11
EXPORTER = f"torch.onnx.export(dynamo=False), torch {torch.__version__}"


class StackedScales(nn.Module):
    """(B, 3S, H, W) -> backbone on each scale -> (B, S*C, h, w): the ModelZoo's search graph."""

    def __init__(self, backbone: nn.Module, scales: int, size: int):
        super().__init__()
        self.backbone, self.scales, self.size = backbone, scales, size
        with torch.inference_mode():      # constants, so the graph's output shape is static but for the batch
            self.features = tuple(backbone(torch.zeros(1, 3, size, size)).shape[1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, h, w = self.features
        y = self.backbone(x.reshape(-1, 3, self.size, self.size))
        return y.reshape(-1, self.scales * c, h, w)


def require_onnx():
    """``onnx``, or an error naming the extra that installs it."""
    try:
        import onnx
    except ImportError as exc:
        raise DeployError("ONNX export needs the onnx package: pip install -e '.[deploy]' "
                          "(onnx>=1.16, onnxruntime>=1.18)") from exc
    return onnx


def load_siamfc(checkpoint: str | Path) -> tuple[SiamFC, Path]:
    """The checkpoint's network in eval mode; another architecture raises naming the file."""
    ckpt = load_checkpoint(checkpoint)
    model = build_model(width=float(ckpt["width"]), head_bias=bool(ckpt.get("head_bias", True)))
    load_model_state(model, ckpt)
    return model.eval(), resolve_checkpoint(checkpoint)


def _declare_output(proto, shape: list[int], dynamic_batch: bool) -> None:
    """The output's dims in the graph (the legacy exporter leaves a reshape's dims unnamed with a free batch)."""
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    del dims[:]
    for i, size in enumerate(shape):
        dim = dims.add()
        if i == 0 and dynamic_batch:
            dim.dim_param = "batch"
        else:
            dim.dim_value = int(size)


def graph_bytes(module: nn.Module, example: torch.Tensor, opset: int, dynamic_batch: bool,
                out_shape: list[int]) -> bytes:
    """One branch as checked ONNX bytes."""
    onnx = require_onnx()
    buf = io.BytesIO()
    axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the legacy exporter's deprecation notice
        torch.onnx.export(module, (example,), buf, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          opset_version=opset, dynamic_axes=axes, do_constant_folding=True, dynamo=False)
    proto = onnx.load_from_string(buf.getvalue())
    _declare_output(proto, out_shape, dynamic_batch)
    onnx.checker.check_model(proto, full_check=True)
    return proto.SerializeToString()


def _branch(name: str, module: nn.Module, example: torch.Tensor, out_dir: Path, opset: int,
            dynamic_batch: bool) -> GraphInfo:
    with torch.inference_mode():
        out_shape = list(module(example).shape)
    data = graph_bytes(module, example, opset, dynamic_batch, out_shape)
    path = out_dir / f"{name}.onnx"
    atomic_write_bytes(path, data)
    batch = None if dynamic_batch else 1
    return GraphInfo(path.name, INPUT_NAME, [batch, *example.shape[1:]], OUTPUT_NAME, [batch, *out_shape[1:]],
                     file_sha256(path))


def export_onnx(checkpoint: str | Path, out_dir: str | Path, dynamic_batch: bool = False,
                opset: int = DEFAULT_OPSET, soc_version: str | None = None,
                cfg: TrackerConfig | None = None) -> DeployMeta:
    """Write ``exemplar.onnx``, ``search.onnx``, ``meta.json`` and ``atc.sh`` under ``out_dir``."""
    cfg = cfg or TrackerConfig()
    model, path = load_siamfc(checkpoint)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    geo, s = cfg.geometry, cfg.scale_num
    bias = model.head.bias
    meta = DeployMeta(str(path), file_sha256(path), float(model.width), float(model.head.out_scale),
                      None if bias is None else float(bias.detach().item()), s, geo.exemplar_size,
                      geo.instance_size, opset, dynamic_batch, EXPORTER, asdict(cfg))
    z = torch.zeros(1, 3, geo.exemplar_size, geo.exemplar_size)
    x = torch.zeros(1, 3 * s, geo.instance_size, geo.instance_size)
    meta.graphs["exemplar"] = _branch("exemplar", model.backbone, z, out, opset, dynamic_batch)
    meta.graphs["search"] = _branch("search", StackedScales(model.backbone, s, geo.instance_size), x, out, opset, dynamic_batch)
    write_atc_script(out, meta, soc_version)
    meta.write(out)
    return meta
