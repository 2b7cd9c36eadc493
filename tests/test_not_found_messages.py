"""Every "not found" names the absolute path, the working directory it came from and what provides it."""
from __future__ import annotations

import pytest

from siamfc_lib.data.crop_store import FolderStore, LmdbStore
from siamfc_lib.data.manifest import Manifest
from siamfc_lib.data.otb import OTBDataset
from siamfc_lib.data.vid import find_videos
from siamfc_lib.reporting.summary import load_eval_run, load_train_run
from siamfc_lib.training.checkpoints import CheckpointError, resolve_checkpoint

CASES = [
    (lambda: OTBDataset("dataset/OTB"), FileNotFoundError, "dataset/OTB", "make demo"),
    (lambda: FolderStore("data/ILSVRC_VID_CURATION"), FileNotFoundError, "data/ILSVRC_VID_CURATION", "01_curate"),
    (lambda: LmdbStore("data/ILSVRC_VID_CURATION.lmdb"), FileNotFoundError, "data/ILSVRC_VID_CURATION.lmdb/data.mdb",
     "02_lmdb"),
    (lambda: Manifest.load("data/ILSVRC_VID_CURATION/manifest.json"), FileNotFoundError,
     "data/ILSVRC_VID_CURATION/manifest.json", "params/<profile>/01_curate.yaml"),
    (lambda: find_videos("data/ILSVRC2015"), FileNotFoundError, "data/ILSVRC2015", "params/demo/01_curate.yaml"),
    (lambda: resolve_checkpoint("outputs/train_1p/checkpoints/last.pth"), CheckpointError,
     "outputs/train_1p/checkpoints/last.pth", "03_train_1p"),
    (lambda: load_train_run("outputs/train_8p"), FileNotFoundError, "outputs/train_8p/summary.json", "make demo"),
    (lambda: load_eval_run("outputs/eval"), FileNotFoundError, "outputs/eval/reports.json", "05_eval_otb"),
]


@pytest.mark.parametrize("make, error, relative, provider", CASES)
def test_not_found_names_absolute_path_working_directory_and_provider(make, error, relative, provider,
                                                                      tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error) as info:
        make()
    message = str(info.value)
    assert f"{tmp_path}/{relative} does not exist" in message
    assert f"resolved from the working directory {tmp_path}" in message
    assert provider in message
