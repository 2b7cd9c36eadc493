"""``python -m siamfc_lib.bench loader``: pairs/s of the DataLoader alone (decode + augment).

Uses ``--data-path`` (+ ``--lmdb``) when given, else a temporary synthetic curated LMDB of
``--crops`` crops, so the figure is reproducible anywhere. One figure per worker count.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from ..data.crop_store import open_crop_store
from ..data.manifest import Manifest
from ..training.pairs import PairDataset, PairSampler, pair_loader
from ..training.synthetic_crops import write_synthetic_curation
from ..training.transforms import AugmentParams


def add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-path", default=None, help="curated folder (default: a temporary synthetic one)")
    parser.add_argument("--lmdb", default=None, help="LMDB path (default: <data-path>.lmdb; '' reads the folder)")
    parser.add_argument("--crops", type=int, default=512, help="synthetic crops to write when no data is given")


def open_pair_dataset(args, tmp: str, items: int) -> tuple[PairDataset, str]:
    """The dataset (raw uint8, as the trainer reads it) and a description of its source."""
    if args.data_path:
        data_path, lmdb_path = args.data_path, args.lmdb
    else:
        frames = 16
        data_path, lmdb_path = str(Path(tmp) / "VID"), str(Path(tmp) / "VID.lmdb")
        write_synthetic_curation(data_path, videos=max(1, args.crops // frames), frames=frames,
                                 lmdb_path=lmdb_path)
    manifest = Manifest.load(data_path)
    store = open_crop_store(data_path, lmdb_path)
    dataset = PairDataset(manifest, store, list(manifest.video_names), AugmentParams(),
                          seed=0, items=items, raw=True)
    return dataset, store.describe() + ("" if args.data_path else f" (synthetic, {manifest.num_crops()} crops)")


def measure_loader(dataset: PairDataset, workers: int, batch: int, pairs: int, warmup_batches: int = 2) -> float:
    loader = pair_loader(dataset, PairSampler(pairs + warmup_batches * batch), batch, workers)
    it = iter(loader)
    for _ in range(warmup_batches):
        next(it)
    start, n = time.perf_counter(), 0
    for z, *_ in it:
        n += z.shape[0]
    return n / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench loader")
    add_data_args(parser)
    cpus = os.cpu_count() or 1
    parser.add_argument("--workers", default=",".join(str(w) for w in sorted({0, 1, max(1, cpus - 1)})),
                        help="comma-separated worker counts")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--pairs", type=int, default=512, help="pairs timed per worker count")
    parser.add_argument("--output", choices=("uint8", "float", "both"), default="both",
                        help="uint8 HWC batches (the trainer's path: the device converts) or float CHW "
                             "tensors made in the workers (the conventional pipeline), or both")
    args = parser.parse_args(argv)
    formats = ("uint8", "float") if args.output == "both" else (args.output,)
    results = []
    with tempfile.TemporaryDirectory(prefix="siamfc-bench-") as tmp:
        dataset, source = open_pair_dataset(args, tmp, items=args.pairs + 4 * args.batch)
        for fmt in formats:
            dataset.raw = fmt == "uint8"
            for w in args.workers.split(","):
                rate = measure_loader(dataset, int(w), args.batch, args.pairs)
                results.append({"output": fmt, "workers": int(w), "pairs_per_s": round(rate, 1)})
    return {"bench": "loader", "source": source, "batch": args.batch, "pairs": args.pairs,
            "cpu_count": cpus, "results": results}
