"""The authors' MatConvNet network (``2016-08-17.net.mat``, SiamFC-3s baseline conversion).

``net.params`` is a struct array of ``(name, value)``: ``conv{n}f`` filters H x W x Cin/groups x Cout,
``conv{n}b`` biases, ``bn{n}m`` / ``bn{n}b`` the batch norm's multiplier and bias, ``bn{n}x`` its
moments as C x 2 columns ``[mean, sigma]`` (MatConvNet normalises by sigma itself, epsilon
already inside), and the ``adjust`` layer's ``adjust_f`` / ``adjust_b``: score =
adjust_f * xcorr + adjust_b. Read with ``scipy.io.loadmat`` (no code runs); RGB in 0..255 without
mean subtraction, as here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .common import LAYERS, Layer, SourceNet, WeightsError


def read_params(path: str | Path) -> dict[str, np.ndarray]:
    try:
        from scipy.io import loadmat
    except ImportError as exc:  # pragma: no cover - scipy is in the environment files
        raise WeightsError("reading a .mat file needs scipy: pip install scipy") from exc
    try:
        mat = loadmat(str(path))
    except FileNotFoundError:
        raise WeightsError(f"weights file {path} does not exist") from None
    except (NotImplementedError, ValueError) as exc:
        raise WeightsError(f"{path} is not a MATLAB v5 .mat file scipy can read ({exc}); "
                           "re-save it from MATLAB with save(..., '-v7')") from exc
    try:
        params = mat["net"]["params"][0][0]
        return {str(np.asarray(p["name"]).reshape(-1)[0]): np.asarray(p["value"])
                for p in params.reshape(-1)}
    except (KeyError, IndexError, ValueError) as exc:
        raise WeightsError(f"{path} has no net.params struct array of (name, value): not a MatConvNet "
                           "SiamFC network") from exc


def _take(params: dict[str, np.ndarray], name: str, path) -> np.ndarray:
    if name not in params:
        raise WeightsError(f"{path}: parameter {name!r} is missing; found {sorted(params)}")
    return params.pop(name).astype(np.float32)


def _vector(value: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(value.reshape(-1)))


def read(path: str | Path) -> SourceNet:
    params = read_params(path)
    layers = {}
    for n in range(1, 6):
        f = _take(params, f"conv{n}f", path)
        if f.ndim != 4:
            raise WeightsError(f"{path}: parameter 'conv{n}f' has shape {f.shape}, expected H x W x Cin x Cout")
        weight = torch.from_numpy(np.ascontiguousarray(f.transpose(3, 2, 0, 1)))
        layer = Layer(weight, _vector(_take(params, f"conv{n}b", path)), bn_eps=0.0)
        conv, bn = LAYERS[n]   # indices in the project's backbone.features
        layer.names = {f"backbone.features.{conv}.weight": f"conv{n}f", f"backbone.features.{conv}.bias": f"conv{n}b"}
        if n < 5:
            moments = _take(params, f"bn{n}x", path)
            if moments.ndim != 2 or moments.shape[1] != 2:
                raise WeightsError(f"{path}: parameter 'bn{n}x' has shape {moments.shape}, expected C x 2")
            mean, sigma = _vector(moments[:, 0]), _vector(moments[:, 1])
            if not (sigma > 0).all():
                raise WeightsError(f"{path}: parameter 'bn{n}x' has a non-positive sigma")
            layer.bn = {"gamma": _vector(_take(params, f"bn{n}m", path)), "beta": _vector(_take(params, f"bn{n}b", path)),
                        "mean": mean, "var": sigma * sigma}
            layer.names.update({f"backbone.features.{bn}.weight": f"bn{n}m", f"backbone.features.{bn}.bias": f"bn{n}b",
                                f"backbone.features.{bn}.running_mean": f"bn{n}x",
                                f"backbone.features.{bn}.running_var": f"bn{n}x"})
        layers[n] = layer
    scale, bias = _take(params, "adjust_f", path), _take(params, "adjust_b", path)
    if scale.size != 1 or bias.size != 1:
        raise WeightsError(f"{path}: 'adjust_f'/'adjust_b' have shapes {scale.shape}/{bias.shape}, expected one value")
    if params:
        raise WeightsError(f"{path}: unexpected parameter(s) {sorted(params)} - not the SiamFC AlexNet")
    return SourceNet(layers, out_scale=float(scale.reshape(-1)[0]), out_bias=float(bias.reshape(-1)[0]),
                     source="matconvnet")
