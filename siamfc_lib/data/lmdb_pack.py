"""Curated folder -> LMDB: key = crop path relative to the folder (UTF-8), value = its JPEG bytes.

Why this shape: a key made from a hash of the absolute path breaks every lookup when the
folder moves, and re-encoding every JPEG costs CPU and quality. Relative keys survive moves;
raw bytes keep the curated quality and cost no CPU.

Resumable without a side file: LMDB commits are atomic, so after a crash the database holds
whole batches; a rerun lists the keys already present and packs only the rest. Files are read
by a thread pool (one batch ahead of the writer), the map is sized from the manifest's byte
count up front (doubling remains the fallback), and commits are not synced one by one: a
killed process loses nothing the kernel has, and the database is synced every ``sync_bytes``
and at the end. A stamp (``siamfc-packed.json`` in the LMDB folder, written after a full
verification) lets a rerun with nothing to do stop after checking a sample.

One copy on disk: unless ``keep_folder``, the crop files are deleted once the LMDB is
verified (the manifest and the curation records stay; a marker in the folder says where the
crops went, so :class:`~siamfc_lib.data.crop_store.FolderStore` still finds them).
"""
from __future__ import annotations

import json
import random
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lmdb

from ..config.data import LmdbConfig
from ..cores import usable_cores
from ..io_utils import atomic_write_text
from ..progress import track as progress_track
from .crop_store import MOVED_MARKER, decode_rgb
from .manifest import Manifest

STAMP = "siamfc-packed.json"


def _open_for_writing(lmdb_path: Path, map_size: int) -> lmdb.Environment:
    try:
        return lmdb.open(str(lmdb_path), map_size=map_size, subdir=True, readahead=False, meminit=False,
                         sync=False)
    except lmdb.Error as exc:
        if "already open" in str(exc):
            raise RuntimeError(f"{lmdb_path} is open for reading in this process (a crop store?): call "
                               "its close() or restart the kernel, then pack again") from exc
        raise


def _present_keys(env: lmdb.Environment) -> set[bytes]:
    with env.begin() as txn:
        return set(txn.cursor().iternext(keys=True, values=False))


def _put_batch(env: lmdb.Environment, batch: list[tuple[bytes, bytes]], log) -> None:
    """Write one batch in one transaction, doubling the map until it fits."""
    while True:
        try:
            with env.begin(write=True) as txn:
                for key, value in batch:
                    txn.put(key, value, overwrite=False)
            return
        except lmdb.MapFullError:
            new_size = env.info()["map_size"] * 2
            log(f"lmdb: map full, growing to {new_size / 2**20:.0f} MiB")
            env.set_mapsize(new_size)


def estimated_map_size(manifest: Manifest, data_path: Path, page: int = 4096) -> int:
    """Bytes the LMDB will need: the crops' bytes (the manifest's count, else a sample of file
    sizes), each value rounded up to whole overflow pages, plus the key pages; 10 % spare."""
    n = manifest.num_crops()
    total = int(manifest.meta.get("bytes") or 0)
    if not total and n:
        sizes = []
        for i in random.Random(0).sample(range(n), min(256, n)):
            try:
                sizes.append((data_path / manifest.key(i)).stat().st_size)
            except OSError:
                pass
        total = int(sum(sizes) / max(len(sizes), 1) * n)
    return int((total + n * (page + 128)) * 1.1) + (64 << 20)


def verify_lmdb(data_path: str | Path, lmdb_path: str | Path, keys, samples: int = 32,
                instance_size: int = 255, seed: int = 0, presence: bool = True) -> dict:
    """Every key present (``presence``: lists the database's keys); a seeded sample equals its
    file (where the file still exists) and decodes to ``instance_size``^2."""
    env = lmdb.open(str(lmdb_path), readonly=True, lock=False, subdir=True)
    try:
        entries = env.stat()["entries"]
        missing = []
        if presence:
            present = _present_keys(env)
            missing = [k for k in keys if k.encode("utf-8") not in present]
        picks = random.Random(seed).sample(range(len(keys)), min(samples, len(keys)))
        sample = [keys[i] for i in picks]
        bad = []
        with env.begin() as txn:
            for key in sample:
                value = txn.get(key.encode("utf-8"))
                if value is None:
                    continue
                file = Path(data_path) / key
                same = not file.exists() or file.read_bytes() == value
                try:
                    shape = decode_rgb(value, key).shape
                except ValueError:
                    shape = None
                if not same or shape != (instance_size, instance_size, 3):
                    bad.append(key)
    finally:
        env.close()
    return {"keys_expected": len(keys), "keys_present": entries, "missing": len(missing),
            "missing_examples": missing[:5], "samples_checked": len(sample), "samples_bad": bad,
            "verified": not missing and not bad}


def _read_threads(cfg: LmdbConfig) -> int:
    return int(cfg.read_threads or min(32, 4 * usable_cores()))


def _stamp(manifest: Manifest) -> dict:
    """Which curation the LMDB holds: its crops and the settings that made their bytes."""
    return {"manifest": manifest.fingerprint(), "crops": manifest.num_crops(),
            "settings": manifest.meta.get("settings")}


def _read_stamp(lmdb_path: Path) -> dict | None:
    try:
        return json.loads((lmdb_path / STAMP).read_text())
    except (OSError, ValueError):
        return None


def pack_lmdb(cfg: LmdbConfig, progress: bool | None = None, log=print) -> dict:
    """Pack (or finish packing) the curated crops listed in the manifest; verify; report;
    then, unless ``cfg.keep_folder``, delete the crop files."""
    start = time.perf_counter()
    data_path = Path(cfg.data_path)
    lmdb_path = Path(cfg.resolved_lmdb_path())
    manifest = Manifest.load(data_path)
    n = manifest.num_crops()
    stamp = _stamp(manifest)
    lmdb_path.mkdir(parents=True, exist_ok=True)
    map_size = int(cfg.initial_map_size or estimated_map_size(manifest, data_path))
    env = _open_for_writing(lmdb_path, map_size)
    written, added = 0, 0
    try:
        old_stamp = _read_stamp(lmdb_path)
        done = old_stamp == stamp and env.stat()["entries"] == n
        if old_stamp is not None and old_stamp.get("settings") != stamp["settings"]:
            log(f"lmdb: {data_path} was curated again with other settings since {lmdb_path} was packed: "
                "repacking every crop")
            (lmdb_path / STAMP).unlink()
            with env.begin(write=True) as txn:
                txn.drop(env.open_db(txn=txn), delete=False)
        if done:
            log(f"lmdb: all {n} crops of {data_path} already in {lmdb_path}")
        else:
            present = _present_keys(env)
            todo = [k for k in manifest.iter_keys(sorted_like_lmdb=True) if k.encode("utf-8") not in present]
            del present
            added = len(todo)
            log(f"lmdb: {n} crops in {data_path}, {n - len(todo)} already in {lmdb_path}, packing {len(todo)} "
                f"with {_read_threads(cfg)} reader thread(s)")
            written = _pack(env, data_path, lmdb_path, todo, cfg, progress, log)
        map_size = env.info()["map_size"]
    finally:
        env.close()
    pack_seconds = time.perf_counter() - start
    # With a matching stamp the entry count vouches for presence; a sample is still checked.
    report = verify_lmdb(data_path, lmdb_path, manifest.keys(), cfg.verify_samples, manifest.instance_size,
                         presence=not done)
    report.update({
        "data_path": str(data_path), "lmdb_path": str(lmdb_path), "added": added,
        "already_present": n - added, "bytes_written": written, "map_size": map_size,
        "db_bytes": (lmdb_path / "data.mdb").stat().st_size, "seconds": round(time.perf_counter() - start, 3),
        "write_MB_per_s": round(written / 1e6 / max(pack_seconds, 1e-9), 2),
    })
    if not report["verified"]:
        raise RuntimeError(f"LMDB {lmdb_path} failed verification: {report}")
    if not done:
        atomic_write_text(lmdb_path / STAMP, json.dumps(stamp))
    report["crop_files_removed"] = 0 if cfg.keep_folder else remove_crop_files(manifest, data_path, lmdb_path,
                                                                              progress, log)
    return report


def _pack(env, data_path: Path, lmdb_path: Path, todo: list[str], cfg: LmdbConfig, progress, log) -> int:
    """Read ``todo`` with a thread pool, one batch ahead of the single writer."""
    def read(key: str) -> bytes:
        try:
            return (data_path / key).read_bytes()
        except FileNotFoundError:
            moved = (data_path / MOVED_MARKER).exists()
            raise FileNotFoundError(
                f"crop {key} listed in the manifest is missing from {data_path}; "
                + ("its crops were moved into an LMDB by an earlier 02_lmdb (see "
                   f"{data_path / MOVED_MARKER}): pack from that LMDB's folder, or rerun 01_curate"
                   if moved else "rerun 01_curate to complete the curation")) from None

    step = max(1, int(cfg.commit_every))
    threads = _read_threads(cfg)
    batches = [todo[i:i + step] for i in range(0, len(todo), step)]
    written = unsynced = 0

    def read_many(keys: list[str]) -> list[bytes]:
        return [read(k) for k in keys]

    def submit(pool, keys: list[str]) -> list:
        """One task per slice of a batch: a future per file costs more than a cached read."""
        size = max(1, -(-len(keys) // threads))
        return [pool.submit(read_many, keys[i:i + size]) for i in range(0, len(keys), size)]

    with ThreadPoolExecutor(threads) as pool:
        ahead = submit(pool, batches[0]) if batches else []
        for b, keys in enumerate(progress_track(batches, desc="lmdb", enabled=progress, unit="batch", size=len,
                                                size_unit="crop")):
            current = ahead
            ahead = submit(pool, batches[b + 1]) if b + 1 < len(batches) else []
            try:
                values = [v for future in current for v in future.result()]
            except BaseException:
                for f in ahead:
                    f.cancel()
                raise
            batch, batch_bytes = [], 0
            for key, value in zip(keys, values):
                batch.append((key.encode("utf-8"), value))
                batch_bytes += len(value)
                if batch_bytes >= cfg.commit_bytes:
                    _put_batch(env, batch, log)
                    written, unsynced, batch, batch_bytes = written + batch_bytes, unsynced + batch_bytes, [], 0
            if batch:
                _put_batch(env, batch, log)
                written, unsynced = written + batch_bytes, unsynced + batch_bytes
            if unsynced >= cfg.sync_bytes:
                env.sync(True)
                unsynced = 0
    env.sync(True)
    return written


def remove_crop_files(manifest: Manifest, data_path: Path, lmdb_path: Path, progress=None, log=print) -> int:
    """Delete the crop files of a verified LMDB (one copy on disk); manifest and records stay.
    The marker goes first, so an interrupted removal is finished by the next run."""
    atomic_write_text(data_path / MOVED_MARKER, json.dumps({"lmdb_path": str(lmdb_path.resolve())}))
    removed = 0
    for v in progress_track(range(len(manifest.video_names)), desc="remove crop files", enabled=progress,
                            unit="video"):
        folder = data_path / manifest.video_names[v]
        if folder.is_dir():
            removed += sum(1 for p in folder.iterdir() if p.name.endswith(".x.jpg"))
            shutil.rmtree(folder, ignore_errors=True)
    if removed:
        log(f"lmdb: removed {removed} crop files from {data_path} (verified in {lmdb_path}; "
            "keep_folder=True keeps them)")
    return removed


def random_read_rate(store, keys, reads: int = 2000, seed: int = 0, decode: bool = False) -> float:
    """Crops/s for uniformly random key lookups (what a training sampler does)."""
    picks = [keys[i] for i in random.Random(seed).choices(range(len(keys)), k=reads)]
    start = time.perf_counter()
    for key in picks:
        store.get_rgb(key) if decode else store.get(key)
    return reads / max(time.perf_counter() - start, 1e-9)
