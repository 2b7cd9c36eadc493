"""huanglianghua/siamfc-pytorch: ``Net(backbone=AlexNetV1(), head=SiamFC(out_scale=0.001))``.

Its state dict: ``backbone.conv{1..5}.0.{weight,bias}`` (conv5 has no batch norm),
``backbone.conv{1..4}.1.{weight,bias,running_mean,running_var,num_batches_tracked}`` with
``BatchNorm2d(eps=1e-6)``; the head has no tensors: score = 0.001 * xcorr, no bias. RGB input
in 0..255, as here.
"""
from __future__ import annotations

from pathlib import Path

from .common import LAYERS, Layer, SourceNet, load_state_dict_safely, refuse_leftovers, take

BN_EPS = 1e-6
OUT_SCALE = 1e-3


def read(path: str | Path, out_scale: float = OUT_SCALE) -> SourceNet:
    state = load_state_dict_safely(path)
    layers = {}
    for n, (ours_conv, ours_bn) in LAYERS.items():
        conv, bn = f"backbone.conv{n}.0", f"backbone.conv{n}.1"
        layer = Layer(take(state, f"{conv}.weight", path), take(state, f"{conv}.bias", path), bn_eps=BN_EPS)
        layer.names = {f"backbone.features.{ours_conv}.{k}": f"{conv}.{k}" for k in ("weight", "bias")}
        layer.names.update({f"backbone.features.{ours_bn}.{k}": f"{bn}.{k}"
                            for k in ("weight", "bias", "running_mean", "running_var")})
        if n < 5:
            layer.bn = {"gamma": take(state, f"{bn}.weight", path), "beta": take(state, f"{bn}.bias", path),
                        "mean": take(state, f"{bn}.running_mean", path), "var": take(state, f"{bn}.running_var", path)}
        layers[n] = layer
    refuse_leftovers(state, path, ignore=("num_batches_tracked",))
    return SourceNet(layers, out_scale=out_scale, out_bias=0.0, source="hl")
