"""What every source maps to: the project's layer layout, BN epsilon and head scale.

Each source module returns :class:`SourceNet`: per layer, the convolution (and for conv1-4 its
batch norm with the source's epsilon), plus the head's score scale and bias. This module
checks every shape against the project's network, folds the differences (epsilon, scale)
into the weights so the project's forward pass gives the source's output exactly, and writes
a checkpoint that ``05_eval_otb`` takes as ``checkpoint``.
"""
from __future__ import annotations

import importlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..io_utils import atomic_write_bytes

SOURCES = {"hl": "huanglianghua/siamfc-pytorch state dict (.pth)",
           "sz": "StrangerZhang/SiamFC-PyTorch state dict (.pth)",
           "matconvnet": "the authors' MatConvNet network (2016-08-17.net.mat)"}
# ``--from`` key -> the module that reads that project's files (named after the project).
READERS = {"hl": "huanglianghua", "sz": "strangerzhang", "matconvnet": "matconvnet"}
# The project's AlexNetV1: conv index in backbone.features and the batch norm after it (None: conv5).
LAYERS = {1: (0, 1), 2: (4, 5), 3: (8, 9), 4: (11, 12), 5: (14, None)}
PROJECT_BN_EPS = 1e-5
PROJECT_OUT_SCALE = 1e-3


class WeightsError(ValueError):
    """A weights file that cannot be imported; the message names the tensor or the fix."""


@dataclass
class Layer:
    weight: torch.Tensor
    bias: torch.Tensor
    bn: dict[str, torch.Tensor] | None = None      # gamma, beta, mean, var
    bn_eps: float = PROJECT_BN_EPS                  # normaliser: sqrt(var + bn_eps)
    names: dict[str, str] = field(default_factory=dict)   # our key -> the source's name, for messages


@dataclass
class SourceNet:
    layers: dict[int, Layer]
    out_scale: float = PROJECT_OUT_SCALE            # score = out_scale * xcorr + out_bias
    out_bias: float = 0.0
    source: str = ""


def load_state_dict_safely(path: str | Path) -> dict[str, torch.Tensor]:
    """A ``.pth`` state dict, unpickled with ``weights_only=True``: a file that needs code is refused."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"weights file {path} does not exist") from None
    except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError, RuntimeError, ...
        raise WeightsError(f"refused {path}: it is not a plain tensor file and loading it would run code from "
                           f"the file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
                           f"Save just the state dict (torch.save(net.state_dict(), ...)) and import that") from exc
    for key in ("state_dict", "model", "net"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path} holds {type(obj).__name__}, not a state dict of tensors")
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in obj.items()}


def take(state: dict[str, torch.Tensor], name: str, path: str | Path) -> torch.Tensor:
    if name not in state:
        raise WeightsError(f"{path}: tensor {name!r} is missing (is this the right --from?)")
    return state.pop(name).detach().float().cpu()


def refuse_leftovers(state: dict[str, torch.Tensor], path: str | Path, ignore: tuple[str, ...] = ()) -> None:
    left = sorted(k for k in state if not (ignore and k.endswith(ignore)))
    if left:
        raise WeightsError(f"{path}: unexpected tensor(s) {left} - not the SiamFC AlexNet this source defines")


def to_state_dict(net: SourceNet, path: str | Path) -> dict[str, torch.Tensor]:
    """The project's ``SiamFC(width=1.0)`` state dict computing ``net``'s scores exactly."""
    from ..model import build_model

    target = build_model(width=1.0).state_dict()
    if not (net.out_scale > 0 and math.isfinite(net.out_scale)):
        raise WeightsError(f"{path}: head scale {net.out_scale} must be positive (a negative scale inverts the map)")
    # score = s * xcorr(f(z), f(x)); scaling conv5 (weight and bias) by k scales xcorr by k^2
    k = math.sqrt(net.out_scale / PROJECT_OUT_SCALE)
    out: dict[str, torch.Tensor] = {}
    for number, (conv, bn) in LAYERS.items():
        layer = net.layers.get(number)
        if layer is None:
            raise WeightsError(f"{path}: layer conv{number} is missing")
        values = {f"backbone.features.{conv}.weight": layer.weight, f"backbone.features.{conv}.bias": layer.bias}
        if number == 5:
            values = {key: v * k for key, v in values.items()}
        if bn is not None:
            if layer.bn is None:
                raise WeightsError(f"{path}: conv{number} has no batch norm statistics")
            var = layer.bn["var"]
            # gamma' / sqrt(var + eps_ours) == gamma / sqrt(var + eps_source): exact in eval mode
            gamma = layer.bn["gamma"] * torch.sqrt(var + PROJECT_BN_EPS) / torch.sqrt(var + layer.bn_eps)
            values.update({f"backbone.features.{bn}.weight": gamma, f"backbone.features.{bn}.bias": layer.bn["beta"],
                           f"backbone.features.{bn}.running_mean": layer.bn["mean"],
                           f"backbone.features.{bn}.running_var": var})
        for key, value in values.items():
            if tuple(value.shape) != tuple(target[key].shape):
                source_name = layer.names.get(key, key)
                raise WeightsError(f"{path}: tensor {source_name!r} has shape {tuple(value.shape)}, the SiamFC "
                                   f"AlexNet needs {tuple(target[key].shape)} (for {key})")
            if not torch.isfinite(value).all():
                raise WeightsError(f"{path}: tensor {layer.names.get(key, key)!r} holds NaN or infinity")
            out[key] = value.to(target[key].dtype).contiguous()
    for key, value in target.items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.zeros_like(value)
    out["head.bias"] = torch.tensor([float(net.out_bias)], dtype=torch.float32)
    missing = sorted(set(target) - set(out))
    if missing:   # pragma: no cover - the layout above covers the whole network
        raise WeightsError(f"internal: no value for {missing}")
    return out


def import_weights(path: str | Path, source: str, out: str | Path | None = None) -> dict:
    """Read ``path`` as ``source``; returns the checkpoint dict (written to ``out`` when given)."""
    if source not in SOURCES:
        raise WeightsError(f"unknown source {source!r}; choose from {sorted(SOURCES)}")
    reader = importlib.import_module(f"{__package__}.{READERS[source]}")
    net: SourceNet = reader.read(path)
    from ..training.checkpoints import FORMAT

    ckpt = {"format": FORMAT, "epoch": 0, "model": to_state_dict(net, path), "width": 1.0, "head_bias": True,
            "imported_from": {"source": source, "description": SOURCES[source], "file": str(path),
                              "out_scale": net.out_scale, "out_bias": net.out_bias}}
    if out is not None:
        buf = io.BytesIO()
        torch.save(ckpt, buf)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(Path(out), buf.getvalue())
    return ckpt
