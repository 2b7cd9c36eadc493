"""Launch preflight: what would fail in every rank is reported before torchrun starts, with the fix."""
from __future__ import annotations

import sys

import pytest

import npu_standin

from siamfc_lib.config import preset
from siamfc_lib.devices import DeviceError
from siamfc_lib.training import launch as launch_mod
from siamfc_lib.training.preflight import PreflightError, check_launch
from siamfc_lib.training.synthetic_crops import write_synthetic_curation


pytestmark = pytest.mark.usefixtures("fresh_npu_cache")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_synthetic_curation(root / "VID", videos=2, frames=3, seed=1, lmdb_path=root / "VID.lmdb")
    write_synthetic_curation(root / "NOLMDB", videos=2, frames=3, seed=1)
    return root


def _cfg(data, **kw):
    return preset("ascend", **{"data_path": str(data / "VID"), "run_dir": str(data / "run"), **kw})


@pytest.fixture
def no_torchrun(monkeypatch):
    def popen(*a, **k):
        raise AssertionError("torchrun was started")
    monkeypatch.setattr(launch_mod.subprocess, "Popen", popen)


def test_more_npus_than_visible_names_the_count(data, monkeypatch, no_torchrun):
    npu_standin.install(monkeypatch, count=2)
    monkeypatch.setenv("ASCEND_RT_VISIBLE_DEVICES", "0,1")
    with pytest.raises(PreflightError, match=r"npus=8 .* only 2 npu device\(s\) are visible on this node "
                                             r"\(ASCEND_RT_VISIBLE_DEVICES=0,1\): pass -p npus 2"):
        launch_mod.launch(_cfg(data, device="npu"), npus=8)
    check_launch(_cfg(data, device="npu"), npus=2)      # what fits passes


def test_layout_and_loss_scale_errors_name_the_fix(data, monkeypatch):
    npu_standin.install(monkeypatch)
    with pytest.raises(PreflightError, match="set channels_last: false"):
        check_launch(_cfg(data, device="npu", channels_last=True), npus=1)
    with pytest.raises(PreflightError, match="loss_scale must be 'dynamic' or a positive number"):
        check_launch(_cfg(data, device="npu", loss_scale="static"), npus=1)


def test_missing_curated_dataset(data, no_torchrun):
    with pytest.raises(PreflightError, match=r"no curated dataset at .*absent \(neither manifest.columns nor manifest.json; .*\): run 01_curate first"):
        launch_mod.launch(_cfg(data, device="cpu", data_path=str(data / "absent")), npus=2)


def test_missing_lmdb(data, no_torchrun):
    with pytest.raises(PreflightError, match="no LMDB: .*NOLMDB.lmdb.*02_lmdb writes it"):
        launch_mod.launch(_cfg(data, device="cpu", data_path=str(data / "NOLMDB")), npus=2)
    check_launch(_cfg(data, device="cpu", data_path=str(data / "NOLMDB"), lmdb_path=""), npus=2)  # folder reads


def test_npu_without_torch_npu_names_cann(data, monkeypatch, no_torchrun):
    monkeypatch.setitem(sys.modules, "torch_npu", None)
    with pytest.raises(DeviceError, match="torch_npu is not installed.*CANN"):
        launch_mod.launch(_cfg(data, device="npu"), npus=8)
