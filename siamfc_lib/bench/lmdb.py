"""LMDB packing write MB/s and random-read crops/s (raw bytes, and with JPEG decode)."""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from ..config import CurateConfig, LmdbConfig
from ..data.crop_store import FolderStore, LmdbStore
from ..data.curate import curate
from ..data.lmdb_pack import pack_lmdb, random_read_rate
from ..data.manifest import Manifest
from ..data.vid_sample import write_vid_sample


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench lmdb", description=__doc__)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--objects", type=int, default=2)
    parser.add_argument("--reads", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="siamfc-bench-lmdb-") as tmp:
        vid = write_vid_sample(Path(tmp) / "vid", args.videos, args.frames, (480, 270), args.objects)
        data_path = Path(tmp) / "cur"
        curate(CurateConfig(vid_root=str(vid), data_path=str(data_path), workers=os.cpu_count() or 1),
               progress=False, log=lambda *_: None)
        report = pack_lmdb(LmdbConfig(data_path=str(data_path), keep_folder=True), progress=False,
                           log=lambda *_: None)   # the folder is read below too
        keys = Manifest.load(data_path).keys()
        store = LmdbStore(report["lmdb_path"])
        result = {
            "crops": len(keys), "MB": round(report["bytes_written"] / 1e6, 2),
            "write_MB_per_s": report["write_MB_per_s"],
            "random_read_crops_per_s": round(random_read_rate(store, keys, args.reads)),
            "random_read_decode_crops_per_s": round(random_read_rate(store, keys, args.reads // 5, decode=True)),
            "folder_random_read_crops_per_s": round(random_read_rate(FolderStore(data_path), keys, args.reads)),
        }
        store.close()
    return result
