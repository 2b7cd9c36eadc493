"""torch-npu installed without CANN: plain ``import torch`` crashes inside torch's backend
autoload; the project's entry points must start torch without it and explain instead.

The stand-in is a real distribution on a temporary path: a ``torch_npu`` dist-info whose
entry_points.txt registers ``[torch.backends] torch_npu = torch_npu:_autoload`` (what every
torch-npu wheel ships) and a ``torch_npu`` package whose import fails the way it does
without CANN. torch finds it through importlib.metadata, as it would the real wheel.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from siamfc_lib import devices

ROOT = Path(__file__).resolve().parents[1]
LIBHCCL = "libhccl.so: cannot open shared object file: No such file or directory"


@pytest.fixture(scope="module")
def broken_npu_path(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    pkg = site / "torch_npu"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(f"raise ImportError({LIBHCCL!r})\n")
    version = torch.__version__.split("+")[0]        # the pair matches: what is missing is CANN
    info = site / f"torch_npu-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch_npu\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("[torch.backends]\ntorch_npu = torch_npu:_autoload\n")
    (info / "RECORD").write_text("")
    return site


def _python(code: str, site: Path, **extra_env) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TORCH_DEVICE_BACKEND_AUTOLOAD"}
    env.update(PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]), **extra_env)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_plain_import_torch_crashes_with_the_stand_in(broken_npu_path):
    """The stand-in is discovered exactly as the real wheel: torch's autoload fails on it."""
    out = _python("import torch", broken_npu_path)
    assert out.returncode != 0
    assert "Failed to load the backend extension: torch_npu" in out.stderr and "libhccl.so" in out.stderr


def test_project_entry_point_gives_its_own_message_and_auto_falls_back(broken_npu_path):
    code = ("from siamfc_lib.devices import resolve_device; print(resolve_device('auto'), flush=True); "
            "resolve_device('npu')")
    out = _python(code, broken_npu_path)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("siamfc_lib.devices.DeviceError: device 'npu' requested but torch_npu is installed but "
                           "cannot load (ImportError: libhccl.so")
    assert "CANN toolkit is missing or its environment is not sourced" in last
    assert "`source /usr/local/Ascend/ascend-toolkit/set_env.sh`" in last
    assert "Failed to load the backend extension" not in out.stderr
    fallback = out.stdout.strip()          # device auto: CUDA or the CPU, with a visible warning
    assert fallback in ("cpu", "cuda:0")
    assert f"RuntimeWarning: device 'auto' falls back to {fallback.split(':')[0]}: torch_npu is installed" in out.stderr


def test_processes_started_from_the_project_inherit_autoload_off(broken_npu_path):
    """torchrun (``python -m torch.distributed.run``) imports torch before any project code."""
    code = ("import siamfc_lib, subprocess, sys; "
            "sys.exit(subprocess.run([sys.executable, '-c', 'import torch; print(torch.__version__)']).returncode)")
    assert _python(code, broken_npu_path).returncode == 0


def test_set_env_command_follows_ascend_toolkit_home(monkeypatch):
    monkeypatch.setenv("ASCEND_TOOLKIT_HOME", "/opt/Ascend/ascend-toolkit/latest")
    assert devices._set_env_command() == "source /opt/Ascend/ascend-toolkit/set_env.sh"
