"""LMDB packing: relative keys, raw bytes, map growth, kill -9 resume, moves, fork/spawn readers."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import lmdb
import pytest

from siamfc_lib.config import CurateConfig, LmdbConfig
from siamfc_lib.data.crop_store import FolderStore, LmdbStore, default_lmdb_path, open_crop_store
from siamfc_lib.data.curate import curate
from siamfc_lib.data.lmdb_pack import pack_lmdb, verify_lmdb
from siamfc_lib.data.manifest import Manifest
from vid_fixtures import CropKeyDataset, legacy_manifest_json, make_small_root

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("lmdb")
    vid = make_small_root(base / "vid", videos=10, frames=24, size=(320, 240))
    curate(CurateConfig(vid_root=str(vid), data_path=str(base / "cur"), workers=2), progress=False)
    return base / "cur"


def _copy(curated: Path, tmp_path: Path) -> Path:
    data_path = tmp_path / "ILSVRC_VID_CURATION"
    shutil.copytree(curated, data_path)
    return data_path


def _lmdb_items(path: str | Path) -> dict[bytes, bytes]:
    env = lmdb.open(str(path), readonly=True, lock=False)
    with env.begin() as txn:
        items = dict(txn.cursor())
    env.close()
    return items


def _folder_items(data_path: Path) -> dict[bytes, bytes]:
    keys = Manifest.load(data_path).keys()
    return {k.encode("utf-8"): (data_path / k).read_bytes() for k in keys}


def test_keys_are_relative_paths_and_values_the_file_bytes(curated, tmp_path):
    data_path = _copy(curated, tmp_path)
    expected = _folder_items(data_path)
    report = pack_lmdb(LmdbConfig(data_path=str(data_path), commit_every=100, initial_map_size=1 << 16,
                                  verify_samples=10, keep_folder=True), progress=False)
    assert report["lmdb_path"] == default_lmdb_path(data_path) == str(data_path) + ".lmdb"
    assert report["verified"] and report["missing"] == 0 and report["samples_checked"] == 10
    assert report["map_size"] > 1 << 16, "the map should have grown from 64 KiB"
    items = _lmdb_items(report["lmdb_path"])
    assert items == expected == _folder_items(data_path)
    assert all(not k.startswith(b"/") and k.count(b"/") == 1 and k.endswith(b".x.jpg") for k in items)
    again = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False)
    assert again["added"] == 0 and again["already_present"] == len(items)


def test_verification_names_missing_keys(curated, tmp_path):
    data_path = _copy(curated, tmp_path)
    report = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False)
    env = lmdb.open(report["lmdb_path"])
    with env.begin(write=True) as txn:
        victim = next(iter(txn.cursor().iternext(values=False)))
        txn.delete(victim)
    env.close()
    keys = Manifest.load(data_path).keys()
    check = verify_lmdb(data_path, report["lmdb_path"], keys)
    assert not check["verified"] and check["missing_examples"] == [victim.decode()]


CHILD = ("import sys; from siamfc_lib.config import LmdbConfig; from siamfc_lib.data.lmdb_pack import pack_lmdb;"
         "pack_lmdb(LmdbConfig(data_path=sys.argv[1], commit_every=4, initial_map_size=1 << 20, sync_bytes=1), "
         "progress=False)")  # a sync per commit: slow enough for the kill points


@pytest.mark.faults
@pytest.mark.parametrize("after_bytes", [1, 400_000])
def test_kill_9_during_packing_then_rerun_completes_identically(curated, tmp_path, after_bytes):
    data_path = _copy(curated, tmp_path)
    mdb = Path(default_lmdb_path(data_path)) / "data.mdb"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data_path)], cwd=ROOT, stdout=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while not (mdb.exists() and mdb.stat().st_size >= after_bytes):
        assert time.monotonic() < end and child.poll() is None, "child ended before the kill point"
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait()
    expected = _folder_items(data_path)
    assert len(_lmdb_items(mdb.parent)) < len(expected), "packing finished before the kill: nothing tested"
    report = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False)
    assert report["verified"] and report["already_present"] + report["added"] == len(expected)
    assert _lmdb_items(mdb.parent) == expected


def test_moving_folder_and_lmdb_still_reads(curated, tmp_path):
    data_path = _copy(curated, tmp_path / "a")
    pack_lmdb(LmdbConfig(data_path=str(data_path), keep_folder=True), progress=False)
    moved = tmp_path / "b" / "elsewhere" / "CURATED"
    moved.parent.mkdir(parents=True)
    shutil.move(str(data_path), moved)
    shutil.move(str(data_path) + ".lmdb", str(moved) + ".lmdb")
    key = Manifest.load(moved).keys()[7]
    lmdb_store, folder_store = open_crop_store(moved), open_crop_store(moved, "")
    assert isinstance(lmdb_store, LmdbStore) and isinstance(folder_store, FolderStore)
    assert lmdb_store.get(key) == folder_store.get(key) == (moved / key).read_bytes()
    assert lmdb_store.get_rgb(key).shape == (255, 255, 3)
    with pytest.raises(KeyError, match="missing from LMDB"):
        lmdb_store.get("no/such.x.jpg")
    with pytest.raises(RuntimeError, match="close"):
        pack_lmdb(LmdbConfig(data_path=str(moved)), progress=False)
    lmdb_store.close()
    assert pack_lmdb(LmdbConfig(data_path=str(moved)), progress=False)["added"] == 0


@pytest.mark.parametrize("context", ["fork", "spawn"])
@pytest.mark.parametrize("backend", ["lmdb", "folder"])
def test_crop_store_in_dataloader_workers(curated, tmp_path_factory, context, backend):
    torch = pytest.importorskip("torch")
    data_path = curated
    if backend == "lmdb" and not Path(default_lmdb_path(data_path), "data.mdb").exists():
        pack_lmdb(LmdbConfig(data_path=str(data_path), keep_folder=True), progress=False)
    store = open_crop_store(data_path, None if backend == "lmdb" else "")
    keys = Manifest.load(data_path).keys()[:24]
    expected = [int(store.get_rgb(k).astype("int64").sum()) for k in keys]   # opened in the parent first
    loader = torch.utils.data.DataLoader(CropKeyDataset(store, keys), batch_size=4, num_workers=2,
                                         multiprocessing_context=context, collate_fn=list)
    rows = sorted(row for batch in loader for row in batch)
    assert [r[0] for r in rows] == list(range(len(keys)))
    assert [r[2] for r in rows] == expected
    assert all(r[3] == (255, 255, 3) for r in rows)
    assert len({r[1] for r in rows}) == 2 and os.getpid() not in {r[1] for r in rows}


def test_two_stores_on_one_lmdb_in_one_process(tmp_path):
    """A notebook may keep a preview store open while the trainer opens its own."""
    from siamfc_lib.data.crop_store import LmdbStore
    from siamfc_lib.training.synthetic_crops import write_synthetic_curation

    manifest = write_synthetic_curation(tmp_path / "cur", videos=1, frames=2, lmdb_path=tmp_path / "cur.lmdb")
    key = manifest.keys()[0]
    a, b = LmdbStore(tmp_path / "cur.lmdb"), LmdbStore(tmp_path / "cur.lmdb")
    assert a.get(key) == b.get(key) == (tmp_path / "cur" / key).read_bytes()
    a.close()
    assert b.get(key)  # still open for b
    b.close()


def test_one_copy_on_disk_after_verification_and_the_folder_still_reads(curated, tmp_path):
    data_path = _copy(curated, tmp_path)
    expected = _folder_items(data_path)
    report = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False)
    assert report["verified"] and report["crop_files_removed"] == len(expected)
    assert not list(data_path.glob("*/*.jpg")), "crop files left beside a verified LMDB"
    assert (data_path / ".records").is_dir() and Manifest.load(data_path).num_crops() == len(expected)
    assert _lmdb_items(report["lmdb_path"]) == expected
    folder = FolderStore(data_path)   # through the marker, from the LMDB
    key = Manifest.load(data_path).keys()[5]
    assert folder.get(key) == expected[key.encode()]
    folder.close()
    again = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False)
    assert again["verified"] and again["added"] == 0 and again["crop_files_removed"] == 0
    stamp = Path(report["lmdb_path"]) / "siamfc-packed.json"
    stamp.unlink()   # no stamp: the full check runs, finds every key and writes the stamp again
    full = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False)
    assert full["added"] == 0 and full["keys_present"] == len(expected) and full["missing"] == 0
    assert stamp.exists()


def test_a_first_format_manifest_is_read_and_packed(curated, tmp_path):
    """Folders curated before the columnar manifest hold manifest.json: still read, converted once."""
    data_path = _copy(curated, tmp_path)
    columns = Manifest.load(data_path)
    (data_path / "manifest.columns").unlink()
    (data_path / "manifest.json").write_text(legacy_manifest_json(columns))
    old = Manifest.load(data_path)
    assert (data_path / "manifest.columns").exists(), "the first load should write the columns beside it"
    assert list(old.keys()) == list(columns.keys()) and old.videos == columns.videos and old.source == columns.source
    assert Manifest.load(data_path / "manifest.json").videos == columns.videos
    assert pack_lmdb(LmdbConfig(data_path=str(data_path), keep_folder=True), progress=False)["verified"]


def test_removal_cut_short_is_finished_by_the_rerun(curated, tmp_path, monkeypatch):
    import siamfc_lib.data.lmdb_pack as pack_mod

    data_path = _copy(curated, tmp_path)
    expected = _folder_items(data_path)
    calls, rmtree = [], shutil.rmtree

    def dies_on_the_third(path, **kw):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed while removing crop files")
        rmtree(path, **kw)

    monkeypatch.setattr(pack_mod.shutil, "rmtree", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False)
    monkeypatch.undo()
    assert 0 < len(list(data_path.glob("*/*.jpg"))) < len(expected)
    store = FolderStore(data_path)   # half removed: every crop still readable
    assert all(store.get(k.decode()) == v for k, v in expected.items())
    store.close()
    report = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False)
    assert report["verified"] and report["added"] == 0 and not list(data_path.glob("*/*.jpg"))
    assert _lmdb_items(report["lmdb_path"]) == expected


def test_a_curation_redone_with_other_settings_is_repacked(tmp_path):
    vid = make_small_root(tmp_path / "vid", videos=2, frames=4, size=(160, 120))
    data_path = tmp_path / "cur"
    curate(CurateConfig(vid_root=str(vid), data_path=str(data_path), workers=1), progress=False)
    first = pack_lmdb(LmdbConfig(data_path=str(data_path), keep_folder=True), progress=False)
    curate(CurateConfig(vid_root=str(vid), data_path=str(data_path), workers=1, jpeg_quality=40), progress=False)
    expected = _folder_items(data_path)
    assert expected != _lmdb_items(first["lmdb_path"])
    again = pack_lmdb(LmdbConfig(data_path=str(data_path), keep_folder=True), progress=False)
    assert again["added"] == len(expected) and _lmdb_items(again["lmdb_path"]) == expected
