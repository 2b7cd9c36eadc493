"""Read curated crops by key, from the LMDB or from the folder, safely in any process.

The LMDB environment is opened lazily in the process that reads (read-only, no lock) and is
never pickled, so a store can be handed to DataLoader workers under fork or spawn.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..paths import not_found


def decode_rgb(data: bytes, what: str = "crop") -> np.ndarray:
    """JPEG bytes -> HxWx3 uint8 RGB; corrupt data raises naming ``what``."""
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{what}: cannot decode image bytes ({len(data)} bytes)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


# Written into the curated folder by 02_lmdb before it deletes the crop files (one copy on disk).
MOVED_MARKER = "crops_moved_to_lmdb.json"


class FolderStore:
    """Crops as files under the curated folder; crops that 02_lmdb moved into its LMDB (see
    :data:`MOVED_MARKER`) are read from there, so "the folder" keeps working."""

    def __init__(self, data_path: str | Path):
        self.root = Path(data_path)
        if not self.root.is_dir():
            raise not_found("curated folder", self.root, "curation")
        self._moved = None

    def __getstate__(self):
        return {"root": self.root, "_moved": None}

    def _moved_store(self):
        if self._moved is None:
            import json

            marker = self.root / MOVED_MARKER
            if not marker.exists():
                return None
            beside = Path(default_lmdb_path(self.root))   # follows a move of folder and LMDB together
            recorded = Path(json.loads(marker.read_text(encoding="utf-8"))["lmdb_path"])
            self._moved = LmdbStore(beside if (beside / "data.mdb").exists() else recorded)
        return self._moved

    def close(self) -> None:
        """Release the LMDB of moved crops, if one was opened."""
        if self._moved is not None:
            self._moved.close()
            self._moved = None

    def get(self, key: str) -> bytes:
        path = self.root / key
        try:
            return path.read_bytes()
        except FileNotFoundError:
            moved = self._moved_store()
            if moved is not None:
                return moved.get(key)
            raise KeyError(f"crop {key!r} not found under {self.root}") from None

    def get_rgb(self, key: str) -> np.ndarray:
        return decode_rgb(self.get(key), key)

    def describe(self) -> str:
        return f"folder {self.root}"


# One read-only environment per LMDB path and process, shared by every store on that path:
# py-lmdb refuses a second open of a path in one process. path -> (pid, env, users).
_ENVIRONMENTS: dict[str, tuple[int, object, int]] = {}


def _acquire_env(path: Path):
    import lmdb

    key, pid = str(path.resolve()), os.getpid()
    entry = _ENVIRONMENTS.get(key)
    if entry is not None and entry[0] == pid:
        _ENVIRONMENTS[key] = (pid, entry[1], entry[2] + 1)
        return entry[1]
    if entry is not None:
        # Inherited through fork: unusable here, and still registered with py-lmdb under this
        # path. Closing only unmaps this process's copy; the parent's stays open.
        entry[1].close()
    env = lmdb.open(str(path), readonly=True, lock=False, readahead=False, meminit=False,
                    max_readers=2048, subdir=True)
    _ENVIRONMENTS[key] = (pid, env, 1)
    return env


def _release_env(path: Path) -> None:
    key, pid = str(path.resolve()), os.getpid()
    entry = _ENVIRONMENTS.get(key)
    if entry is None or entry[0] != pid:
        return
    if entry[2] <= 1:
        entry[1].close()
        del _ENVIRONMENTS[key]
    else:
        _ENVIRONMENTS[key] = (pid, entry[1], entry[2] - 1)


class LmdbStore:
    """Crops as values of an LMDB keyed by the relative path (UTF-8)."""

    def __init__(self, lmdb_path: str | Path):
        self.path = Path(lmdb_path)
        if not (self.path / "data.mdb").exists():
            raise not_found("no LMDB", self.path / "data.mdb", "lmdb")
        self._env = None
        self._pid = None

    def _txn_env(self):
        if self._env is None or self._pid != os.getpid():
            self._env = _acquire_env(self.path)
            self._pid = os.getpid()
        return self._env

    def __getstate__(self):
        return {"path": self.path, "_env": None, "_pid": None}

    def close(self) -> None:
        """Release this store's hold on the environment (closed when no store uses it)."""
        if self._env is not None and self._pid == os.getpid():
            _release_env(self.path)
        self._env = self._pid = None

    def get(self, key: str) -> bytes:
        with self._txn_env().begin(buffers=False) as txn:
            value = txn.get(key.encode("utf-8"))
        if value is None:
            raise KeyError(f"crop {key!r} missing from LMDB {self.path}; was it packed from this "
                           "curated folder? rerun 02_lmdb to complete it")
        return value

    def get_rgb(self, key: str) -> np.ndarray:
        return decode_rgb(self.get(key), key)

    def describe(self) -> str:
        return f"lmdb {self.path}"


def default_lmdb_path(data_path: str | Path) -> str:
    """The seed's rule: the LMDB sits beside the curated folder as ``<data_path>.lmdb``."""
    return str(data_path).rstrip("/\\") + ".lmdb"


def open_crop_store(data_path: str | Path, lmdb_path: str | None = None):
    """LMDB when ``lmdb_path`` is None (default path) or a path; the folder when it is ``""``."""
    if lmdb_path == "":
        return FolderStore(data_path)
    return LmdbStore(lmdb_path or default_lmdb_path(data_path))
