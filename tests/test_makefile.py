"""The Makefile's venv: torch is installed once, as asked, and kept until another build is asked for.

A stand-in ``python`` records the commands make runs, so nothing is installed.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FAKE_PYTHON = """#!/bin/sh
# stand-in interpreter: "-m venv DIR" makes DIR/bin/python (this script); "-c" checks pass (Python {version});
# anything else is logged
if [ "$1" = "--version" ]; then echo "Python {version}"; exit 0; fi
if [ "$1" = "-c" ]; then exit {check}; fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
echo "$*" >> "$(dirname "$0")/../calls.log"
"""


def _fake(path: Path, version: str = "3.11.7") -> Path:
    new_enough = tuple(int(v) for v in version.split(".")[:2]) >= (3, 10)
    path.write_text(FAKE_PYTHON.format(version=version, check=0 if new_enough else 1))
    path.chmod(0o755)
    return path


@pytest.fixture
def make_venv(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    fake = _fake(tmp_path / "fakepython")
    venv = tmp_path / "venv"

    def run(*targets: str, dry: bool = False, **variables) -> list[str]:
        """The torch installs this make run performed (or, with ``dry``, would perform)."""
        log = venv / "calls.log"
        before = log.read_text().splitlines() if log.exists() else []
        args = ["make", "-C", str(ROOT), *(["-n"] if dry else []), *(targets or ["venv"]), f"VENV={venv}",
                f"PYTHON={fake}"]
        args += [f"{k}={v}" for k, v in variables.items()]
        done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=60)
        if dry:
            return [line.split("pip install ", 1)[1] for line in done.stdout.splitlines()
                    if "pip install --quiet torch" in line]
        calls = log.read_text().splitlines()[len(before):] if log.exists() else []
        return [c for c in calls if "pip install --quiet torch" in c]

    return run


def test_the_venv_keeps_the_torch_it_was_given(make_venv):
    assert make_venv() == ["-m pip install --quiet torch==2.13.0"]
    assert make_venv() == []                                   # nothing changed: nothing installed
    npu = {"TORCH_SPEC": "torch==2.7.1+cpu torch-npu==2.7.1.post2"}
    assert make_venv(**npu) == ["-m pip install --quiet torch==2.7.1+cpu torch-npu==2.7.1.post2"]
    index = "https://download.pytorch.org/whl/cpu"
    assert make_venv(**npu, TORCH_INDEX=index) == [
        f"-m pip install --quiet torch==2.7.1+cpu torch-npu==2.7.1.post2 --index-url {index} "
        "--extra-index-url https://pypi.org/simple"]
    assert make_venv(**npu, TORCH_INDEX=index) == []
    # later plain makes keep the Ascend pair: no target reinstalls the default torch over it
    assert make_venv() == []
    assert make_venv("test", dry=True) == [] and make_venv("lab", dry=True) == []
    assert make_venv(TORCH_SPEC="torch==2.13.0") == ["-m pip install --quiet torch==2.13.0"]   # asked: reinstalled


def test_an_interpreter_too_old_is_refused_by_name(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    old = _fake(tmp_path / "python3.9", version="3.9.9")
    done = subprocess.run(["make", "-C", str(ROOT), "venv", f"VENV={tmp_path / 'venv'}", f"PYTHON={old}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and not (tmp_path / "venv").exists()
    assert "is Python 3.9.9; this project needs Python 3.10 or newer" in done.stderr
    assert "make venv PYTHON=python3.11" in done.stderr
