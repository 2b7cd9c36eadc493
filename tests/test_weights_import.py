"""Released SiamFC weights: each peer's format (names and shapes from its published module
definitions, random values) imported, then the project's network must score like that peer's
forward pass, re-implemented here in plain torch ops. And no weights file ever runs code."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from siamfc_lib.training.checkpoints import CheckpointError, load_checkpoint, load_model_from_checkpoint
from siamfc_lib.weights import WeightsError, import_weights
from siamfc_lib.weights.__main__ import main as weights_cli

# conv (out, in/groups, k, k), groups, stride; then BN channels (None after conv5): AlexNetV1 of SiamFC
CONVS = [((96, 3, 11, 11), 1, 2), ((256, 48, 5, 5), 2, 1), ((384, 256, 3, 3), 1, 1), ((384, 192, 3, 3), 2, 1),
         ((256, 192, 3, 3), 2, 1)]


def _random_layers(seed: int) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    layers = []
    for n, (shape, _, _) in enumerate(CONVS, 1):
        fan_in = shape[1] * shape[2] * shape[3]
        layer = {"w": torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5,
                 "b": torch.randn(shape[0], generator=g) * 0.1}
        if n < 5:
            c = shape[0]
            var = torch.rand(c, generator=g) * 1.5 + 0.5
            var[:4] = torch.tensor([1e-6, 3e-6, 1e-5, 2e-5])      # where the epsilons differ most
            layer.update(gamma=torch.rand(c, generator=g) + 0.5, beta=torch.randn(c, generator=g) * 0.1,
                         mean=torch.randn(c, generator=g) * 0.1, var=var)
        layers.append(layer)
    return layers


def _peer_backbone(x: torch.Tensor, layers: list[dict], normalise) -> torch.Tensor:
    """conv-bn-relu-pool, conv-bn-relu-pool, conv-bn-relu, conv-bn-relu, conv (both peers and the paper)."""
    for n, (layer, (_, groups, stride)) in enumerate(zip(layers, CONVS), 1):
        x = F.conv2d(x, layer["w"], layer["b"], stride=stride, groups=groups)
        if n == 5:
            return x
        x = F.relu(normalise(x, layer))
        if n in (1, 2):
            x = F.max_pool2d(x, 3, 2)
    raise AssertionError


def _xcorr(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    nz = z.shape[0]
    nx, c, h, w = x.shape
    out = F.conv2d(x.reshape(-1, nz * c, h, w), z, groups=nz)
    return out.reshape(nx, -1, out.shape[-2], out.shape[-1])


def _bn(eps: float):
    def normalise(x, layer):
        scale = layer["gamma"] / torch.sqrt(layer["var"] + eps)
        return (x - layer["mean"].view(1, -1, 1, 1)) * scale.view(1, -1, 1, 1) + layer["beta"].view(1, -1, 1, 1)
    return normalise


@pytest.fixture(scope="module")
def inputs():
    g = torch.Generator().manual_seed(7)
    return torch.rand(1, 3, 127, 127, generator=g) * 255, torch.rand(1, 3, 143, 143, generator=g) * 255


def _ours(checkpoint, z, x) -> torch.Tensor:
    model = load_model_from_checkpoint(checkpoint).eval()
    with torch.no_grad():
        return model.head(model.backbone(z), model.backbone(x))


def _close(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    assert ours.shape == theirs.shape == (1, 1, 3, 3)
    assert torch.allclose(ours, theirs, rtol=1e-4, atol=1e-4 * theirs.abs().max().item()), (ours, theirs)


def test_huanglianghua_state_dict(tmp_path, inputs):
    layers = _random_layers(1)
    state = {}
    for n, layer in enumerate(layers, 1):       # Net(backbone=AlexNetV1(), head=SiamFC(0.001))
        state[f"backbone.conv{n}.0.weight"], state[f"backbone.conv{n}.0.bias"] = layer["w"], layer["b"]
        if n < 5:                               # _BatchNorm2d(eps=1e-6)
            for ours, theirs in (("gamma", "weight"), ("beta", "bias"), ("mean", "running_mean"),
                                 ("var", "running_var")):
                state[f"backbone.conv{n}.1.{theirs}"] = layer[ours]
            state[f"backbone.conv{n}.1.num_batches_tracked"] = torch.tensor(100)
    torch.save(state, tmp_path / "hl.pth")
    assert weights_cli(["import", str(tmp_path / "hl.pth"), "--from", "hl", "--out", str(tmp_path / "ck.pth")]) == 0
    z, x = inputs
    theirs = _xcorr(_peer_backbone(z, layers, _bn(1e-6)), _peer_backbone(x, layers, _bn(1e-6))) * 0.001
    _close(_ours(tmp_path / "ck.pth", z, x), theirs)
    # AlexNetV2's conv5 (32 channels) is refused, naming the tensor
    state["backbone.conv5.0.weight"] = torch.zeros(32, 192, 3, 3)
    torch.save(state, tmp_path / "v2.pth")
    with pytest.raises(WeightsError, match=r"backbone\.conv5\.0\.weight.*\(32, 192, 3, 3\)"):
        import_weights(tmp_path / "v2.pth", "hl")


def test_strangerzhang_state_dict(tmp_path, inputs):
    layers = _random_layers(2)
    state = {}
    index = {1: (0, 1), 2: (4, 5), 3: (8, 9), 4: (11, 12), 5: (14, None)}   # SiameseAlexNet.features
    for n, layer in enumerate(layers, 1):
        conv, bn = index[n]
        state[f"features.{conv}.weight"], state[f"features.{conv}.bias"] = layer["w"], layer["b"]
        if bn is not None:
            for ours, theirs in (("gamma", "weight"), ("beta", "bias"), ("mean", "running_mean"),
                                 ("var", "running_var")):
                state[f"features.{bn}.{theirs}"] = layer[ours]
    state["corr_bias"] = torch.tensor([-0.3])
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "sz.pth")   # DataParallel prefix
    import_weights(tmp_path / "sz.pth", "sz", tmp_path / "ck.pth")
    z, x = inputs
    theirs = _xcorr(_peer_backbone(z, layers, _bn(1e-5)), _peer_backbone(x, layers, _bn(1e-5))) * 1e-3 - 0.3
    _close(_ours(tmp_path / "ck.pth", z, x), theirs)
    del state["features.9.running_var"]
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(WeightsError, match="features.9.running_var"):
        import_weights(tmp_path / "broken.pth", "sz")


def test_matconvnet_network(tmp_path, inputs):
    from scipy.io import savemat

    layers = _random_layers(3)
    params = []                                   # 2016-08-17.net.mat: net.params(i).name / .value
    for n, layer in enumerate(layers, 1):
        params.append((f"conv{n}f", layer["w"].numpy().transpose(2, 3, 1, 0)))     # H x W x Cin x Cout
        params.append((f"conv{n}b", layer["b"].numpy()[:, None]))
        if n < 5:
            params.append((f"bn{n}m", layer["gamma"].numpy()[:, None]))
            params.append((f"bn{n}b", layer["beta"].numpy()[:, None]))
            params.append((f"bn{n}x", np.stack([layer["mean"].numpy(), layer["var"].sqrt().numpy()], axis=1)))
    params += [("adjust_f", np.array([[0.0021]], dtype=np.float32)), ("adjust_b", np.array([[-1.5]], dtype=np.float32))]
    struct = np.empty((1, len(params)), dtype=[("name", object), ("value", object)])
    for i, (name, value) in enumerate(params):
        struct[0, i] = (name, value.astype(np.float32))
    savemat(tmp_path / "net.mat", {"net": {"params": struct}})
    import_weights(tmp_path / "net.mat", "matconvnet", tmp_path / "ck.pth")
    z, x = inputs

    def moments(x, layer):                        # vl_nnbnorm with moments [mean, sigma]: no epsilon added
        sigma = layer["var"].sqrt()
        return ((x - layer["mean"].view(1, -1, 1, 1)) / sigma.view(1, -1, 1, 1) * layer["gamma"].view(1, -1, 1, 1)
                + layer["beta"].view(1, -1, 1, 1))

    theirs = 0.0021 * _xcorr(_peer_backbone(z, layers, moments), _peer_backbone(x, layers, moments)) - 1.5
    _close(_ours(tmp_path / "ck.pth", z, x), theirs)
    struct[0, 0] = ("conv1f", np.zeros((11, 11, 3, 64), dtype=np.float32))
    savemat(tmp_path / "bad.mat", {"net": {"params": struct}})
    with pytest.raises(WeightsError, match="'conv1f' has shape"):
        import_weights(tmp_path / "bad.mat", "matconvnet")


class _RunsCode:
    """A pickle payload: unpickling it calls ``exec``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = {"format": "siamfc-checkpoint/1", "epoch": 1, "width": 0.25, "model": {}, "payload": _RunsCode(marker)}
    path = tmp_path / "run" / "checkpoints" / "last.pth"
    path.parent.mkdir(parents=True)
    torch.save(evil, path)
    with pytest.raises(CheckpointError, match="refused to open .*run code.*exec"):
        load_checkpoint(tmp_path / "run")
    with pytest.raises(CheckpointError, match="refused"):
        load_model_from_checkpoint(path)
    torch.save({"backbone.conv1.0.weight": _RunsCode(marker)}, tmp_path / "evil_weights.pth")
    for source in ("hl", "sz"):
        with pytest.raises(WeightsError, match="refused .*run code"):
            import_weights(tmp_path / "evil_weights.pth", source)
    assert not marker.exists()


def test_old_checkpoints_with_numpy_rng_state_still_open(tmp_path):
    """Checkpoints written before RNG states became tensors hold a NumPy array: still readable."""
    import random

    from siamfc_lib.model import build_model
    from siamfc_lib.training.checkpoints import FORMAT, restore_rng_states

    np.random.seed(5)
    old = {"format": FORMAT, "epoch": 3, "width": 0.25, "head_bias": True, "model": build_model(0.25).state_dict(),
           "rng": {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}}
    torch.save(old, tmp_path / "old.pth")
    expected = np.random.rand(3)
    np.random.seed(0)
    ckpt = load_checkpoint(tmp_path / "old.pth")
    restore_rng_states(ckpt["rng"])
    assert np.array_equal(np.random.rand(3), expected)
    assert load_model_from_checkpoint(tmp_path / "old.pth").width == 0.25
