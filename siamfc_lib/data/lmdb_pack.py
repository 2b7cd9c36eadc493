"""Curated folder -> LMDB: key = crop path relative to the folder (UTF-8), value = its JPEG bytes.

Why this shape: a public SiamFC port keyed by a hash of the absolute path,
so any respelling or move of the folder broke every lookup, and it re-encoded every JPEG.
Relative keys survive moves; raw bytes keep the curated quality and cost no CPU.

Resumable without a side file: LMDB commits are atomic, so after a crash the database holds
whole batches; a rerun lists the keys already present and packs only the rest. The map grows
(doubling) whenever a batch hits MapFullError.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import lmdb

from ..config.data import LmdbConfig
from ..progress import track as progress_track
from .crop_store import decode_rgb
from .manifest import Manifest


def _open_for_writing(lmdb_path: Path, map_size: int) -> lmdb.Environment:
    try:
        return lmdb.open(str(lmdb_path), map_size=map_size, subdir=True, readahead=False, meminit=False)
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


def verify_lmdb(data_path: str | Path, lmdb_path: str | Path, keys: list[str], samples: int = 32,
                instance_size: int = 255, seed: int = 0) -> dict:
    """Every key present; a seeded sample equals its file and decodes to ``instance_size``^2."""
    env = lmdb.open(str(lmdb_path), readonly=True, lock=False, subdir=True)
    try:
        present = _present_keys(env)
        missing = [k for k in keys if k.encode("utf-8") not in present]
        sample = random.Random(seed).sample(keys, min(samples, len(keys)))
        bad = []
        with env.begin() as txn:
            for key in sample:
                value = txn.get(key.encode("utf-8"))
                if value is None:
                    continue
                file = Path(data_path) / key
                same = not file.exists() or file.read_bytes() == value
                if not same or decode_rgb(value, key).shape != (instance_size, instance_size, 3):
                    bad.append(key)
    finally:
        env.close()
    return {"keys_expected": len(keys), "keys_present": len(present), "missing": len(missing),
            "missing_examples": missing[:5], "samples_checked": len(sample), "samples_bad": bad,
            "verified": not missing and not bad}


def pack_lmdb(cfg: LmdbConfig, progress: bool | None = None, log=print) -> dict:
    """Pack (or finish packing) the curated crops listed in the manifest; verify; report."""
    start = time.perf_counter()
    data_path = Path(cfg.data_path)
    lmdb_path = Path(cfg.resolved_lmdb_path())
    manifest = Manifest.load(data_path)
    keys = sorted(manifest.keys())
    lmdb_path.mkdir(parents=True, exist_ok=True)
    env = _open_for_writing(lmdb_path, int(cfg.initial_map_size))
    written = 0
    try:
        present = _present_keys(env)
        todo = [k for k in keys if k.encode("utf-8") not in present]
        log(f"lmdb: {len(keys)} crops in {data_path}, {len(keys) - len(todo)} already in {lmdb_path}, "
            f"packing {len(todo)}")
        batch: list[tuple[bytes, bytes]] = []
        batch_bytes = 0
        for key in progress_track(todo, desc="lmdb", enabled=progress, unit="crop"):
            try:
                value = (data_path / key).read_bytes()
            except FileNotFoundError:
                raise FileNotFoundError(f"crop {key} listed in the manifest is missing from {data_path}; "
                                        "rerun 01_curate to complete the curation") from None
            batch.append((key.encode("utf-8"), value))
            batch_bytes += len(value)
            if len(batch) >= cfg.commit_every or batch_bytes >= cfg.commit_bytes:
                _put_batch(env, batch, log)
                written += batch_bytes
                batch, batch_bytes = [], 0
        if batch:
            _put_batch(env, batch, log)
            written += batch_bytes
        map_size = env.info()["map_size"]
    finally:
        env.close()
    pack_seconds = time.perf_counter() - start
    report = verify_lmdb(data_path, lmdb_path, keys, cfg.verify_samples, manifest.instance_size)
    report.update({
        "data_path": str(data_path), "lmdb_path": str(lmdb_path), "added": len(todo),
        "already_present": len(keys) - len(todo), "bytes_written": written, "map_size": map_size,
        "db_bytes": (lmdb_path / "data.mdb").stat().st_size, "seconds": round(time.perf_counter() - start, 3),
        "write_MB_per_s": round(written / 1e6 / max(pack_seconds, 1e-9), 2),
    })
    if not report["verified"]:
        raise RuntimeError(f"LMDB {lmdb_path} failed verification: {report}")
    return report


def random_read_rate(store, keys: list[str], reads: int = 2000, seed: int = 0, decode: bool = False) -> float:
    """Crops/s for uniformly random key lookups (what a training sampler does)."""
    picks = [keys[i] for i in random.Random(seed).choices(range(len(keys)), k=reads)]
    start = time.perf_counter()
    for key in picks:
        store.get_rgb(key) if decode else store.get(key)
    return reads / max(time.perf_counter() - start, 1e-9)
