"""Device layer: CPU resolution, error messages, and the NPU branch through a stand-in module."""
import sys
import types

import pytest
import torch

from siamfc_lib import devices
from siamfc_lib.devices import Device, DeviceError


pytestmark = pytest.mark.usefixtures("fresh_npu_cache")


def _stand_in_torch_npu(available=True, count=8):
    calls = []
    npu = types.SimpleNamespace(
        is_available=lambda: available,
        device_count=lambda: count,
        set_device=lambda i: calls.append(("set_device", i)),
        synchronize=lambda: calls.append(("synchronize",)),
    )
    return types.SimpleNamespace(npu=npu, calls=calls)


def test_cpu_resolves_and_has_gloo_and_fp32():
    dev = devices.resolve_device("cpu")
    assert dev == Device("cpu") and dev.torch == torch.device("cpu")
    assert devices.distributed_backend(dev) == "gloo"
    assert devices.autocast_dtype(dev, "auto") is None
    assert devices.autocast_dtype(dev, "bf16") is torch.bfloat16
    assert devices.needs_grad_scaler(dev, "fp16") and not devices.needs_grad_scaler(dev, "bf16")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "npu0", "", "tpu:1"])
def test_malformed_device_is_rejected_with_the_accepted_forms(spec):
    with pytest.raises(DeviceError, match="auto, cpu, cuda"):
        devices.resolve_device(spec)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on CUDA-less builds")
def test_cuda_without_cuda_explains():
    with pytest.raises(DeviceError, match="CUDA is not available"):
        devices.resolve_device("cuda:0")


def test_npu_requested_without_torch_npu_explains_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_npu", None)  # import raises ImportError
    with pytest.raises(DeviceError, match="torch_npu is not installed.*CANN"):
        devices.resolve_device("npu")
    assert devices.resolve_device("auto").kind in ("cpu", "cuda")


def test_broken_torch_npu_import_is_caught(monkeypatch):
    class Exploding(types.ModuleType):
        def __getattr__(self, name):
            raise OSError("libhccl.so: cannot open shared object file")

    import importlib

    real = importlib.import_module

    def fake_import(name, *a, **k):
        if name == "torch_npu":
            raise OSError("libascendcl.so: cannot open shared object file")
        return real(name, *a, **k)

    monkeypatch.setattr(devices.importlib, "import_module", fake_import)
    assert devices.torch_npu_module() is None
    assert "libascendcl.so" in devices.npu_unavailable_reason()


def test_npu_branch_with_stand_in_module(monkeypatch):
    fake = _stand_in_torch_npu(count=8)
    monkeypatch.setitem(sys.modules, "torch_npu", fake)
    dev = devices.resolve_device("npu", local_rank=3)
    assert dev == Device("npu", 3) and dev.name == "npu:3"
    assert devices.resolve_device("auto").kind == "npu"
    assert devices.distributed_backend(dev) == "hccl"
    assert devices.autocast_dtype(dev, "auto") is torch.float16
    assert devices.needs_grad_scaler(dev, "auto")
    assert devices.device_count("npu") == 8
    devices.set_current(dev)
    devices.synchronize(dev)
    assert fake.calls == [("set_device", 3), ("synchronize",)]
    with pytest.raises(DeviceError, match="only 8 npu"):
        devices.resolve_device("npu:8")


def test_npu_installed_but_no_device(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_npu", _stand_in_torch_npu(available=False))
    with pytest.raises(DeviceError, match="no available NPU"):
        devices.resolve_device("npu:0")


def test_static_loss_scale_on_torch_amp_stays_put_and_skips_overflows():
    """loss_scale=128 (the seed's apex O2 scale) on torch.amp's scaler: an overflow skips the
    step but does not halve the scale; "dynamic" backs off."""
    from siamfc_lib.training.step import TrainStep

    def run(loss_scale):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        scaler, update, static = devices.make_grad_scaler(Device("cpu"), "fp16", loss_scale)
        step = TrainStep(lambda z, x: model(z), torch.optim.SGD(model.parameters(), lr=0.1), Device("cpu"),
                         torch.float16, scaler, loss_fn=lambda out, *a: out.float().mean(), scale_update=update,
                         static_scale=static)
        before = model.weight.detach().clone()
        step(torch.full((2, 4), 1e6), None)                     # overflows in fp16
        return scaler.get_scale(), float(step.overflow_steps), torch.equal(before, model.weight)

    assert run(128) == (128.0, 1.0, True)
    assert run("dynamic") == (2.0 ** 16 * 0.5, 1.0, True)
    with pytest.raises(DeviceError, match="loss_scale must be 'dynamic' or a positive number"):
        devices.make_grad_scaler(Device("cpu"), "fp16", 0)
