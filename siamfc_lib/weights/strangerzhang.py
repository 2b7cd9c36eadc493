"""StrangerZhang/SiamFC-PyTorch: ``SiameseAlexNet`` (one ``features`` Sequential + ``corr_bias``).

Its state dict: ``features.{0,4,8,11,14}.{weight,bias}`` (convolutions), ``features.{1,5,9,12}``
batch norms (PyTorch's default eps 1e-5) and ``corr_bias``; training scores are
``xcorr * 1e-3 + corr_bias`` (config.response_scale). Same Sequential indices as this project.
"""
from __future__ import annotations

from pathlib import Path

from .common import LAYERS, Layer, SourceNet, WeightsError, load_state_dict_safely, refuse_leftovers, take

BN_EPS = 1e-5
OUT_SCALE = 1e-3


def read(path: str | Path) -> SourceNet:
    state = load_state_dict_safely(path)
    layers = {}
    for n, (conv, bn) in LAYERS.items():
        layer = Layer(take(state, f"features.{conv}.weight", path), take(state, f"features.{conv}.bias", path),
                      bn_eps=BN_EPS)
        layer.names = {f"backbone.{key}": key for key in [f"features.{conv}.weight", f"features.{conv}.bias"]
                       + [f"features.{bn}.{k}" for k in ("weight", "bias", "running_mean", "running_var")]}
        if bn is not None:
            layer.bn = {"gamma": take(state, f"features.{bn}.weight", path),
                        "beta": take(state, f"features.{bn}.bias", path),
                        "mean": take(state, f"features.{bn}.running_mean", path),
                        "var": take(state, f"features.{bn}.running_var", path)}
        layers[n] = layer
    bias = take(state, "corr_bias", path)
    if bias.numel() != 1:
        raise WeightsError(f"{path}: tensor 'corr_bias' has shape {tuple(bias.shape)}, expected (1,)")
    refuse_leftovers(state, path, ignore=("num_batches_tracked",))
    return SourceNet(layers, out_scale=OUT_SCALE, out_bias=float(bias.reshape(-1)[0]), source="sz")
