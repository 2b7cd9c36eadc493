"""``python -m siamfc_lib.doctor`` on this machine's CPU, and the verdict when NPUs cannot load."""
from __future__ import annotations

import sys

import pytest

from siamfc_lib import doctor


pytestmark = pytest.mark.usefixtures("fresh_npu_cache")


@pytest.mark.slow
def test_doctor_on_cpu_passes_every_check():
    lines: list[str] = []
    checks = doctor.run("cpu", out=lines.append)
    text = "\n".join(lines)
    assert [c.name for c in checks] == ["process group", "train step fp32", "train step bf16", "train step fp16",
                                        "tracking", "checkpoint"]
    assert all(c.ok for c in checks), text
    assert "  torch      " in text and "  torch_npu  " in text and "  CANN       " in text
    assert "device     cpu: backend gloo" in text
    assert "gloo: 1 process initialised, all_reduce ok" in text
    assert "GradScaler torch.amp.grad_scaler.GradScaler" in text          # fp16 steps are loss-scaled
    assert lines[-1] == "verdict: OK, cpu is ready for training and tracking"


def test_doctor_npu_without_torch_npu_fails_with_the_fix(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch_npu", None)
    assert doctor.main(["--device", "npu"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == "verdict: 1 check(s) failed on npu"
    assert out[-1].startswith("  fix (device npu): device 'npu' requested but torch_npu is not installed")
    assert "source /usr/local/Ascend/ascend-toolkit/set_env.sh" in out[-1]


def test_cann_version_from_the_toolkit_environment(tmp_path, monkeypatch):
    info = tmp_path / "x86_64-linux" / "ascend_toolkit_install.info"
    info.parent.mkdir()
    info.write_text("package_name=Ascend-cann-toolkit\nversion=8.3.RC1\n")
    monkeypatch.setenv("ASCEND_TOOLKIT_HOME", str(tmp_path))
    assert doctor.cann_version() == f"8.3.RC1 ({tmp_path})"
    monkeypatch.delenv("ASCEND_TOOLKIT_HOME")
    assert doctor.cann_version().startswith("not found (ASCEND_TOOLKIT_HOME unset")


@pytest.mark.slow
def test_doctor_on_the_strict_npu_stand_in(monkeypatch):
    """The NPU branch: torch_npu's GradScaler for fp16, contiguous tensors, and an HCCL group
    that this CPU-only torch cannot start, reported with its fix."""
    import npu_standin

    npu = npu_standin.install(monkeypatch)
    lines: list[str] = []
    checks = {c.name: c for c in doctor.run("npu", out=lines.append)}
    assert npu.violations == []
    assert list(checks) == ["process group", "train step fp32", "train step fp16", "tracking",   # no bf16 on 910A
                            "checkpoint"]
    assert "device     npu:0: backend hccl, channels_last no, compile no" in "\n".join(lines)
    assert not checks["process group"].ok and "HCCL" in checks["process group"].fix
    assert checks["train step fp16"].ok and "GradScaler npu_standin.GradScaler" in checks["train step fp16"].detail
    assert checks["tracking"].ok and "grid crops" in checks["tracking"].detail
    assert lines[-2:] == ["verdict: 1 check(s) failed on npu:0", f"  fix (process group): {checks['process group'].fix}"]
