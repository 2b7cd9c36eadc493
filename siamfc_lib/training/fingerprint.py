"""Cheap fingerprints of the training data, so the nodes of a job can prove they read the same.

Why files, not parsed objects: the manifest's on-disk format may change (JSON, columnar),
and hashing bytes needs no parsing. The manifest the trainer reads (``manifest.columns``;
else every top-level entry of the curated folder whose name starts with ``manifest``) is
hashed whole (sha256 runs at about a GB/s, and the trainer reads the manifest anyway). An
LMDB is summarised by its entry count and a hash of its first and last few records, read with
a cursor: constant cost at 2.4 M crops. A crop folder (no LMDB) by its number of top-level
entries (one per video). Missing files are reported, never raised: the ranks must reach the
comparison to stop together.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..data.manifest import MANIFEST_FILE
from ..io_utils import file_sha256

EDGE_RECORDS = 4          # LMDB records hashed at each end


def manifest_fingerprint(data_path: str | Path) -> dict[str, Any]:
    """``{relative name: "<size> bytes sha256 <hex>"}`` of the manifest file(s) of a curated folder."""
    root = Path(data_path)
    if not root.is_dir():
        return {"error": f"curated folder {root} does not exist"}
    files: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("manifest"):
            files += sorted(p for p in entry.rglob("*") if p.is_file()) if entry.is_dir() else [entry]
    columns = [p for p in files if p.name == MANIFEST_FILE]
    if columns:   # what the trainer reads; a first-format manifest.json beside it may or may not be there
        files = columns
    if not files:
        return {"error": f"no manifest* file in {root}"}
    return {p.relative_to(root).as_posix(): f"{p.stat().st_size} bytes sha256 {file_sha256(p)[:16]}" for p in files}


def lmdb_fingerprint(lmdb_path: str | Path) -> dict[str, Any]:
    """Entry count and a hash of the first and last :data:`EDGE_RECORDS` key/value pairs.

    Opens its own read-only environment: call it before this process opens a crop store on
    the same path (py-lmdb allows one environment per path and process).
    """
    path = Path(lmdb_path)
    if not (path / "data.mdb").exists():
        return {"error": f"no LMDB at {path} (expected {path / 'data.mdb'})"}
    import lmdb

    env = lmdb.open(str(path), readonly=True, lock=False, readahead=False, subdir=True)
    try:
        h = hashlib.sha256()
        with env.begin(buffers=False) as txn:
            entries = txn.stat()["entries"]
            cursor = txn.cursor()
            for start, move in ((cursor.first, cursor.next), (cursor.last, cursor.prev)):
                ok = start()
                for _ in range(EDGE_RECORDS):
                    if not ok:
                        break
                    h.update(cursor.key())
                    h.update(hashlib.sha256(cursor.value()).digest())
                    ok = move()
    finally:
        env.close()
    return {"entries": entries, f"first/last {EDGE_RECORDS} records sha256": h.hexdigest()[:16]}


def folder_fingerprint(data_path: str | Path) -> dict[str, Any]:
    root = Path(data_path)
    if not root.is_dir():
        return {"error": f"curated folder {root} does not exist"}
    return {"video folders": sum(1 for e in root.iterdir() if e.is_dir())}


def data_fingerprint(data_path: str | Path, lmdb_path: str | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """What a rank will train on: ``{role: (this node's path, summary)}`` for the manifest and
    the crop store (``lmdb_path`` None: the default LMDB, ``""``: crops read from the folder).
    Nodes may keep the data under different paths; only the summaries must agree."""
    from ..data.crop_store import default_lmdb_path

    out = {"manifest": (str(data_path), manifest_fingerprint(data_path))}
    if lmdb_path == "":
        out["crop folder"] = (str(data_path), folder_fingerprint(data_path))
    else:
        store = lmdb_path or default_lmdb_path(data_path)
        out["LMDB"] = (str(store), lmdb_fingerprint(store))
    return out
