"""The Makefile's venv: changing TORCH_SPEC or TORCH_INDEX reinstalls torch, nothing else does.

A stand-in ``python`` records the commands make runs, so nothing is installed.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FAKE_PYTHON = """#!/bin/sh
# stand-in interpreter: "-m venv DIR" makes DIR/bin/python (this script); anything else is logged
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
echo "$*" >> "$(dirname "$0")/../calls.log"
"""


@pytest.fixture
def make_venv(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    fake = tmp_path / "fakepython"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    venv = tmp_path / "venv"

    def run(**variables) -> list[str]:
        """The torch installs this make run performed."""
        log = venv / "calls.log"
        before = log.read_text().splitlines() if log.exists() else []
        args = ["make", "-C", str(ROOT), "venv", f"VENV={venv}", f"PYTHON={fake}"]
        args += [f"{k}={v}" for k, v in variables.items()]
        subprocess.run(args, check=True, capture_output=True, text=True, timeout=60)
        calls = log.read_text().splitlines()[len(before):] if log.exists() else []
        return [c for c in calls if "pip install --quiet torch" in c]

    return run


def test_changing_torch_spec_or_index_reinstalls_torch(make_venv):
    assert make_venv() == ["-m pip install --quiet torch==2.13.0"]
    assert make_venv() == []                                   # nothing changed: nothing installed
    npu = {"TORCH_SPEC": "torch==2.7.1+cpu torch-npu==2.7.1"}
    assert make_venv(**npu) == ["-m pip install --quiet torch==2.7.1+cpu torch-npu==2.7.1"]
    index = "https://download.pytorch.org/whl/cpu"
    assert make_venv(**npu, TORCH_INDEX=index) == [
        f"-m pip install --quiet torch==2.7.1+cpu torch-npu==2.7.1 --index-url {index} "
        "--extra-index-url https://pypi.org/simple"]
    assert make_venv(**npu, TORCH_INDEX=index) == []
    assert make_venv() == ["-m pip install --quiet torch==2.13.0"]   # back to the default: reinstalled
