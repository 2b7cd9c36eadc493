"""What the full ILSVRC2015-VID (or GOT-10k train, ``--source got10k``) costs: 01 and 02 speed and
memory, trainer start-up per rank, DataLoader worker memory, no-op reruns and disk, on a tree of
the source's shape at ``--fraction`` of the real counts (tiny frames), extrapolated to 100 %;
``--full-counts`` adds the parts where only the counts matter (manifest, start-up, workers, no-op
reruns) at 100 % without any image work. GOT-10k's shape: :mod:`.got10k_shape`.

Real counts: 3,862 train + 555 val snippets, 1,122,397 + 176,126 frames, about 1.85 boxes per
frame (about 2.4M crops). Snippet lengths are log-normal around the real means; each snippet
holds 1 + Poisson(1.47) tracks, each visible on a random 50-100 % stretch of the snippet.
Every stage runs in its own process so peak RSS and CPU seconds are its own.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .tree_frames import striped_jpeg

REAL = {"train": (3862, 1_122_397), "val": (555, 176_126)}
TRACKS_POISSON = 1.47
WNIDS = ("n02084071", "n02691156", "n02958343", "n02374451", "n01503061")


# ---------------------------------------------------------------------------------------------
# The VID-shaped layout (shared by the image tree and the counts-only records)
# ---------------------------------------------------------------------------------------------

def vid_layout(fraction: float, seed: int = 0) -> list[dict]:
    """Snippets: name, subset, frame count and tracks ``(trackid, first, last)``."""
    rng = np.random.default_rng(seed)
    out = []
    for subset, (videos, frames) in REAL.items():
        n = max(1, int(round(videos * fraction)))
        sigma = 0.8
        lengths = rng.lognormal(np.log(frames / videos) - sigma ** 2 / 2, sigma, n)
        lengths = np.clip(np.round(lengths), 6, 5000).astype(int)
        for i, length in enumerate(lengths):
            tracks = []
            for t in range(1 + int(rng.poisson(TRACKS_POISSON))):
                span = max(2, int(length * rng.uniform(0.5, 1.0)))
                first = int(rng.integers(0, length - span + 1))
                tracks.append((t, first, first + span - 1))
            name = f"ILSVRC2015_{subset}_{i:08d}"
            out.append({"name": name, "subset": subset, "frames": int(length), "tracks": tracks,
                        "batch": i // 1000})
    return out


def _dirs(root: Path, v: dict) -> tuple[Path, Path]:
    rel = Path("VID") / v["subset"]
    if v["subset"] == "train":
        rel = rel / f"ILSVRC2015_VID_train_{v['batch']:04d}"
    return root / "Data" / rel / v["name"], root / "Annotations" / rel / v["name"]


def _box(track: tuple[int, int, int], frame: int, size: tuple[int, int]) -> list[int]:
    w, h = size
    t = track[0]
    x0 = (5 + 7 * t + frame // 4) % (w - 20)
    y0 = (3 + 5 * t + frame // 6) % (h - 16)
    return [x0, y0, x0 + 12 + t % 5, y0 + 10 + t % 4]


def write_layout_tree(root: Path, layout: list[dict], size: tuple[int, int] = (64, 48)) -> None:
    """JPEG + XML per frame in the real layout; one tiny JPEG per snippet, reused."""

    from ..data.vid_xml import VidObject, frame_xml

    for k, v in enumerate(layout):
        data_dir, anno_dir = _dirs(root, v)
        data_dir.mkdir(parents=True, exist_ok=True)
        anno_dir.mkdir(parents=True, exist_ok=True)
        jpeg = striped_jpeg(size, (37 * k) % 256, 4)
        for f in range(v["frames"]):
            (data_dir / f"{f:06d}.JPEG").write_bytes(jpeg)
            objects = [VidObject(t[0], WNIDS[t[0] % len(WNIDS)], tuple(_box(t, f, size))) for t in v["tracks"]
                       if t[1] <= f <= t[2]]
            (anno_dir / f"{f:06d}.xml").write_text(frame_xml(f"{v['subset']}/{v['name']}", f"{f:06d}", *size, objects))


def write_counts_only(vid_root: Path, data_path: Path, layout: list[dict], cfg) -> tuple[int, bytes]:
    """Empty snippet folders plus finished curation records: what a completed 01 leaves, without
    images. Returns the crop count and the one (flat) crop JPEG every key will hold."""
    import cv2

    from ..data.curate import record_path, settings_fingerprint

    settings = settings_fingerprint(cfg)
    crop = cv2.imencode(".jpg", np.full((cfg.instance_size, cfg.instance_size, 3), 90, np.uint8))[1].tobytes()
    total = 0
    (data_path / ".records").mkdir(parents=True, exist_ok=True)
    for v in layout:
        data_dir, anno_dir = _dirs(vid_root, v)
        data_dir.mkdir(parents=True, exist_ok=True)
        anno_dir.mkdir(parents=True, exist_ok=True)
        tracks = []
        for t in v["tracks"]:
            frames = list(range(t[1], t[2] + 1))
            boxes = [[float(c) for c in _box(t, f, (640, 360))] for f in frames]
            tracks.append({"trackid": t[0], "wnid": WNIDS[t[0] % len(WNIDS)], "frames": frames, "boxes": boxes,
                           "crop_boxes": [[127.0, 127.0, 63.5 + t[0], 50.25] for _ in frames],
                           "occluded": [0] * len(frames), "generated": [0] * len(frames)})
        crops = sum(len(t["frames"]) for t in tracks)
        total += crops
        record = {"settings": settings, "video": {"video": v["name"], "subset": v["subset"],
                                                  "frame_size": [640, 360], "tracks": tracks},
                  "skipped": {}, "problems": [], "crops": crops, "bytes": crops * len(crop), "seconds": 0.0}
        record_path(data_path, v["name"]).write_text(json.dumps(record, sort_keys=True))
    return total, crop


def write_counts_only_lmdb(lmdb_path: Path, data_path: Path, crop: bytes) -> None:
    """An LMDB holding every manifest key (all with the same flat crop)."""
    import lmdb

    from ..data.manifest import Manifest

    keys = sorted(Manifest.load(data_path).keys())
    env = lmdb.open(str(lmdb_path), map_size=len(keys) * (len(crop) + 4096) * 2 + (1 << 30), sync=False)
    for i in range(0, len(keys), 100_000):
        with env.begin(write=True) as txn:
            for key in keys[i:i + 100_000]:
                txn.put(key.encode(), crop, append=True)
    env.sync(True)
    env.close()


# ---------------------------------------------------------------------------------------------
# Stages, each run in a child process
# ---------------------------------------------------------------------------------------------

def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2 ** 20


def _stage_curate(a: dict) -> dict:
    from ..config import CurateConfig
    from ..data.curate import curate

    cfg = CurateConfig(vid_root=a["vid_root"], data_path=a["data_path"], workers=a["workers"],
                       source=a.get("source", "vid"), got10k_root=a.get("got10k_root", "data/GOT-10k"))
    return curate(cfg, progress=False, log=lambda *_: None)


def _stage_pack(a: dict) -> dict:
    from ..config import LmdbConfig
    from ..data.lmdb_pack import pack_lmdb

    return pack_lmdb(LmdbConfig(data_path=a["data_path"]), progress=False, log=lambda *_: None)


def _stage_manifest(a: dict) -> dict:
    """RAM of the loaded manifest, as the notebooks and every rank hold it."""
    from ..data.manifest import Manifest

    before = _rss_mb()
    start = time.perf_counter()
    manifest = Manifest.load(a["data_path"])
    seconds = time.perf_counter() - start
    crops = manifest.num_crops()
    after = _rss_mb()
    out = {"load_s": round(seconds, 2), "crops": crops, "rss_MB": round(after - before, 1),
           "B_per_crop": round((after - before) * 2 ** 20 / crops, 1)}
    columns = manifest.columns   # also the arrays' size, and RSS once every page was read
    out["array_B_per_crop"] = round(sum(a.nbytes for a in columns.values()) / crops, 1)
    for array in columns.values():
        array.sum()
    out["rss_all_pages_read_MB"] = round(_rss_mb() - before, 1)
    del array, manifest, columns
    import gc

    gc.collect()
    out["rss_after_drop_MB"] = round(_rss_mb() - before, 1)
    return out


def _stage_startup(a: dict) -> dict:
    """What a rank does before its first step: manifest, store, split, datasets, samplers;
    then (``batches``) an epoch slice with ``workers`` forked workers and their private memory."""
    import psutil
    import torch  # noqa: F401 - imported before the clock starts, as in the trainer

    from ..config import TrainConfig
    from ..data.manifest import Manifest
    from ..devices import resolve_device
    from ..training.context import DistributedContext
    from ..training.loaders import build_loaders

    held = Manifest.load(a["data_path"]) if a.get("hold_manifest") else None  # a notebook kernel's copy
    cfg = TrainConfig(data_path=a["data_path"], workers=a["workers"], device="cpu", batch_size=8,
                      pairs_per_epoch=max(8 * a["batches"], 64), val_pairs=64)
    before = _rss_mb()
    start = time.perf_counter()
    train_loader, _, _, info = build_loaders(cfg, DistributedContext(), resolve_device("cpu"))
    seconds = time.perf_counter() - start
    out = {"seconds": round(seconds, 2), "rss_MB": round(_rss_mb() - before, 1),
           "rss_total_MB": round(_rss_mb(), 1), "steps_per_epoch": info["steps_per_epoch"]}
    if a["batches"] and a["workers"]:
        for i, _ in enumerate(train_loader):
            if i + 1 >= a["batches"]:
                break
        children = psutil.Process().children()
        uss = [c.memory_full_info().uss / 2 ** 20 for c in children]
        out.update({"workers": len(uss), "worker_private_MB": [round(u, 1) for u in uss],
                    "batches": a["batches"]})
    del held
    return out


STAGES = {"curate": _stage_curate, "pack": _stage_pack, "manifest": _stage_manifest, "startup": _stage_startup}


def _peak_mb() -> float:
    """This process's peak RSS: VmHWM, which (unlike ru_maxrss) does not carry the forking
    parent's peak over the exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child_main() -> None:
    stage, args = sys.argv[1], json.loads(sys.argv[2])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = STAGES[stage](args)
    print("\n" + json.dumps({"result": result, "wall_s": round(time.perf_counter() - wall0, 2),
                             "cpu_s": round(time.process_time() - cpu0, 2), "peak_rss_MB": _peak_mb()}),
          flush=True)


def run_stage(stage: str, **args) -> dict:
    code = "from siamfc_lib.bench.scale import _child_main; _child_main()"
    proc = subprocess.run([sys.executable, "-c", code, stage, json.dumps(args)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bench scale stage {stage} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _du_mb(path: Path) -> float:
    if not path.exists():
        return 0.0
    proc = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True)
    return round(int(proc.stdout.split()[0]) / 1024, 1) if proc.returncode == 0 else float("nan")


def _files(path: Path) -> int:
    return sum(len(f) for _, _, f in os.walk(path)) if path.exists() else 0


# ---------------------------------------------------------------------------------------------

def _shape(source: str):
    """``(layout, write the tree, write counts-only records, curate arguments for a tree root)``."""
    if source == "got10k":
        from . import got10k_shape as g

        return g.got10k_layout, g.write_layout_tree, g.write_counts_only, \
            lambda root: {"source": "got10k", "got10k_root": str(root), "vid_root": str(root)}
    return vid_layout, write_layout_tree, write_counts_only, lambda root: {"vid_root": str(root)}


def fraction_run(base: Path, fraction: float, workers: int, batches: int, source: str = "vid") -> dict:
    layout_of, write_tree, _, where = _shape(source)
    layout = layout_of(fraction)
    vid, cur = base / source, base / "cur"
    start = time.perf_counter()
    write_tree(vid, layout)
    tree_s = time.perf_counter() - start
    c = run_stage("curate", **where(vid), data_path=str(cur), workers=workers)
    crops = c["result"]["crops"]
    disk_after_01 = {"crops_MB": _du_mb(cur), "files": _files(cur)}
    c2 = run_stage("curate", **where(vid), data_path=str(cur), workers=workers)
    p = run_stage("pack", data_path=str(cur))
    p2 = run_stage("pack", data_path=str(cur))
    m = run_stage("manifest", data_path=str(cur))
    s = run_stage("startup", data_path=str(cur), workers=min(2, workers), batches=batches)
    lmdb_dir = Path(str(cur) + ".lmdb")
    disk = {f"{source}_MB": _du_mb(vid), "curated_folder_MB": _du_mb(cur), "curated_folder_files": _files(cur),
            "lmdb_MB": _du_mb(lmdb_dir), "after_01": disk_after_01}
    disk["crops_on_disk_MB"] = round(disk["curated_folder_MB"] + disk["lmdb_MB"], 1)
    scale = 1 / fraction
    return {
        "videos": len(layout), "frames": sum(v["frames"] for v in layout), "crops": crops,
        "tree_write_s": round(tree_s, 1),
        "curate": {"seconds": c["wall_s"], "crops_per_s": round(crops / c["wall_s"], 1),
                   "bookkeeping_cpu_s": c["cpu_s"], "peak_rss_MB": c["peak_rss_MB"], "workers": workers},
        "curate_noop": {"seconds": c2["wall_s"], "cpu_s": c2["cpu_s"], "peak_rss_MB": c2["peak_rss_MB"]},
        "lmdb": {"seconds": p["wall_s"], "MB_per_s": round(p["result"]["bytes_written"] / 1e6 / p["wall_s"], 1),
                 "write_MB_per_s": p["result"]["write_MB_per_s"],   # packing alone (no verification, removal)
                 "crop_files_removed": p["result"].get("crop_files_removed", 0),
                 "peak_rss_MB": p["peak_rss_MB"], "map_size_MB": round(p["result"]["map_size"] / 2 ** 20)},
        "lmdb_noop": {"seconds": p2["wall_s"], "cpu_s": p2["cpu_s"], "peak_rss_MB": p2["peak_rss_MB"]},
        "manifest": m["result"], "startup": {**s["result"], "peak_rss_MB": s["peak_rss_MB"]},
        "disk": disk,
        "extrapolated_100pct": {
            "crops": round(crops * scale), "curate_hours_at_this_rate": round(c["wall_s"] * scale / 3600, 2),
            "curate_bookkeeping_cpu_s": round(c["cpu_s"] * scale, 1),
            "curate_noop_s": round(c2["wall_s"] * scale, 1), "lmdb_noop_s": round(p2["wall_s"] * scale, 1),
            "manifest_GB_in_RAM": round(m["result"]["B_per_crop"] * crops * scale / 1e9, 2),
            "crop_files": round(disk_after_01["files"] * scale),
        },
    }


def full_counts_run(base: Path, workers: int, batches: int, fraction: float = 1.0, source: str = "vid") -> dict:
    from ..config import CurateConfig

    layout_of, _, write_counts, where = _shape(source)
    layout = layout_of(fraction)
    vid, cur = base / f"{source}_counts", base / "cur_counts"
    cfg = CurateConfig(**where(vid), data_path=str(cur))
    start = time.perf_counter()
    crops, crop = write_counts(vid, cur, layout, cfg)
    records_s = time.perf_counter() - start
    first = run_stage("curate", **where(vid), data_path=str(cur), workers=workers)   # end-of-01 assembly
    noop = run_stage("curate", **where(vid), data_path=str(cur), workers=workers)
    start = time.perf_counter()
    write_counts_only_lmdb(Path(str(cur) + ".lmdb"), cur, crop)
    lmdb_s = time.perf_counter() - start
    pack_check = run_stage("pack", data_path=str(cur))   # every key already there: verify, stamp
    pack_noop = run_stage("pack", data_path=str(cur))
    m = run_stage("manifest", data_path=str(cur))
    s = run_stage("startup", data_path=str(cur), workers=0, batches=0)
    w = run_stage("startup", data_path=str(cur), workers=2, batches=batches)
    wn = run_stage("startup", data_path=str(cur), workers=2, batches=batches, hold_manifest=True)
    manifest_files = {p.name: round(p.stat().st_size / 1e6, 1) for p in cur.iterdir() if p.is_file()}
    return {
        "videos": len(layout), "frames": sum(v["frames"] for v in layout), "crops": crops,
        "setup_s": {"records": round(records_s, 1), "lmdb": round(lmdb_s, 1)},
        "manifest_files_MB": manifest_files, "records_MB": _du_mb(cur / ".records"),
        "curate_end_of_run": {"seconds": first["wall_s"], "cpu_s": first["cpu_s"], "peak_rss_MB": first["peak_rss_MB"]},
        "curate_noop": {"seconds": noop["wall_s"], "cpu_s": noop["cpu_s"], "peak_rss_MB": noop["peak_rss_MB"]},
        "lmdb_all_present": {"seconds": pack_check["wall_s"], "cpu_s": pack_check["cpu_s"],
                             "peak_rss_MB": pack_check["peak_rss_MB"]},
        "lmdb_noop": {"seconds": pack_noop["wall_s"], "cpu_s": pack_noop["cpu_s"],
                      "peak_rss_MB": pack_noop["peak_rss_MB"]},
        "manifest": m["result"],
        "startup_per_rank": {**s["result"], "peak_rss_MB": s["peak_rss_MB"]},
        "workers_after_epoch_slice": {"private_MB": w["result"].get("worker_private_MB"),
                                      "with_notebook_manifest_private_MB": wn["result"].get("worker_private_MB"),
                                      "batches": batches},
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench scale", description=__doc__)
    parser.add_argument("--fraction", type=float, default=0.1, help="of the real snippet and frame counts (0: skip)")
    parser.add_argument("--full-counts", action="store_true", help="also the counts-only parts at 100 %%")
    parser.add_argument("--counts-fraction", type=float, default=1.0, help=argparse.SUPPRESS)  # tests
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batches", type=int, default=40, help="batches of 8 pairs before worker memory is read")
    parser.add_argument("--dir", default=None, help="work folder (default: a temporary one, removed)")
    parser.add_argument("--source", choices=("vid", "got10k"), default="vid",
                        help="the data set's shape: ILSVRC2015-VID (default) or GOT-10k's train split")
    args = parser.parse_args(argv)
    base = Path(args.dir or tempfile.mkdtemp(prefix="siamfc-bench-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    out: dict = {"source": args.source, "fraction": args.fraction, "cpu_count": os.cpu_count(),
                 "load_avg": os.getloadavg()}
    try:
        if args.fraction > 0:
            out["at_fraction"] = fraction_run(base / "fraction", args.fraction, args.workers, args.batches, args.source)
            shutil.rmtree(base / "fraction", ignore_errors=True)
        if args.full_counts:
            out["full_counts"] = full_counts_run(base / "counts", args.workers, args.batches, args.counts_fraction,
                                                 args.source)
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)
    out["load_avg_end"] = os.getloadavg()
    return out
