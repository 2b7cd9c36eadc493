"""``python -m siamfc_lib.bench train_memory``: what 03's kernel holds per curated crop.

Two VID-shaped curations of ``--small`` and ``--large`` snippets (counts only: finished curation
records and an LMDB where every key holds one flat crop; about 55 crops per snippet, a tenth of
ILSVRC2015-VID's, so per-video costs show) are each trained on by a short 03_train_1p run under papermill, ``--runs`` times.
While it runs, the kernel and its DataLoader workers are sampled every few milliseconds: the peak of
their summed anonymous memory (``RssAnon``: what the manifest, the previews and the network really
cost, shared file pages left out) and the kernel's own peak RSS. Printed: the medians per size and
their growth per crop between the sizes, the figures that grow with the data set, with the noise that
the runs' spread puts on that growth (a peak sampled every few milliseconds moves by tens of MB).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil


def _shortened(video: dict, scale: float) -> dict:
    """``video`` with ``scale`` of its frames, its tracks cut to them."""
    frames = max(6, int(video["frames"] * scale))
    tracks = [(t, min(first, frames - 2), min(max(last, first + 1), frames - 1)) for t, first, last in
              ((t, int(a * scale), int(b * scale)) for t, a, b in video["tracks"])]
    return {**video, "frames": frames, "tracks": tracks}


def _curation(base: Path, snippets: int, scale: float = 0.1) -> tuple[Path, int]:
    """A curated folder (manifest + LMDB) of ``snippets`` VID-shaped snippets; its crop count."""
    from ..config import CurateConfig
    from ..data.curate import curate
    from ..data.manifest import Manifest
    from .scale import REAL, vid_layout, write_counts_only, write_counts_only_lmdb

    videos = sum(v for v, _ in REAL.values())
    layout = [_shortened(v, scale) for v in vid_layout(snippets / videos, seed=snippets)]
    vid, data = base / "ILSVRC2015", base / "CURATION"
    cfg = CurateConfig(vid_root=str(vid), data_path=str(data), workers=1)
    _, crop = write_counts_only(vid, data, layout, cfg)
    curate(cfg, progress=False, log=lambda _m: None)
    write_counts_only_lmdb(Path(f"{data}.lmdb"), data, crop)
    return data, Manifest.load(data).num_crops()


class _Sampler(threading.Thread):
    """Peak summed RssAnon of a process tree under ``root`` (the kernel and its workers), and the
    kernel's peak RSS; the kernel is the first child that runs ipykernel."""

    def __init__(self, root: psutil.Process, every_s: float = 0.005):
        super().__init__(daemon=True)
        self.root, self.every_s = root, every_s
        self.stop = threading.Event()
        self.peak_anon = self.peak_kernel_rss = 0

    @staticmethod
    def _anon(proc: psutil.Process) -> int:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                line = next(line for line in f if line.startswith("RssAnon:"))
            return int(line.split()[1]) * 1024
        except (OSError, StopIteration, ValueError):
            return 0

    def run(self) -> None:
        while not self.stop.is_set():
            kernels = [p for p in self.root.children() if "ipykernel" in " ".join(self._cmdline(p))]
            for kernel in kernels:
                try:
                    tree = [kernel, *kernel.children(recursive=True)]
                    self.peak_kernel_rss = max(self.peak_kernel_rss, kernel.memory_info().rss)
                except psutil.Error:
                    continue
                self.peak_anon = max(self.peak_anon, sum(self._anon(p) for p in tree))
            time.sleep(self.every_s)

    @staticmethod
    def _cmdline(proc: psutil.Process) -> list[str]:
        try:
            return proc.cmdline()
        except psutil.Error:
            return []


def _run_03(data: Path, run_dir: Path, args) -> dict:
    import papermill

    from ..paths import project_root

    root = project_root()
    params = dict(data_path=str(data), lmdb_path=None, device="cpu", epochs=1, batch_size=8, workers=args.workers,
                  amp="none", run_dir=str(run_dir), width=0.125, pairs_per_epoch=args.pairs, val_pairs=16,
                  log_every=100, progress=False)
    run_dir.mkdir(parents=True, exist_ok=True)
    sampler = _Sampler(psutil.Process())
    sampler.start()
    start = time.perf_counter()
    papermill.execute_notebook(str(root / "notebooks" / "03_train_1p.ipynb"), str(run_dir / "03.ipynb"),
                               parameters=params, kernel_name="python3", cwd=str(root), progress_bar=False)
    sampler.stop.set()
    sampler.join()
    return {"peak_anon_MB": sampler.peak_anon / 2 ** 20, "peak_kernel_rss_MB": sampler.peak_kernel_rss / 2 ** 20,
            "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench train_memory", description=__doc__)
    parser.add_argument("--small", type=int, default=100, help="snippets of the small curation")
    parser.add_argument("--large", type=int, default=4417, help="snippets of the large curation (ILSVRC2015-VID's count)")
    parser.add_argument("--snippet-scale", type=float, default=0.1,
                        help="snippet length relative to ILSVRC2015-VID's (about 540 crops); 0.1: per-video costs show, "
                             "1.0: the real crop count (2.4M at 4417 snippets; an LMDB of about 4 GB)")
    parser.add_argument("--runs", type=int, default=3, help="03 runs per size (the median is reported)")
    parser.add_argument("--pairs", type=int, default=64, help="training pairs of each 03 run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--work", default=None, help="keep the curations here (default: a temporary folder)")
    args = parser.parse_args(argv)
    out: dict = {"bench": "train_memory", "runs": args.runs, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="siamfc-memory-") as tmp:
        work = Path(args.work or tmp)
        for name, snippets in (("small", args.small), ("large", args.large)):
            data, crops = _curation(work / name, snippets, args.snippet_scale)
            runs = [_run_03(data, work / name / f"run{i}", args) for i in range(args.runs)]
            out["sizes"][name] = {"snippets": snippets, "crops": crops, "runs": runs,
                                  **{f"{stat}_{k}": fn([r[k] for r in runs]) for k in ("peak_anon_MB", "peak_kernel_rss_MB")
                                     for stat, fn in (("median", statistics.median), ("spread", _spread))}}
    small, large = out["sizes"]["small"], out["sizes"]["large"]
    crops = large["crops"] - small["crops"]
    for key in ("peak_anon_MB", "peak_kernel_rss_MB"):
        growth = (large[f"median_{key}"] - small[f"median_{key}"]) * 2 ** 20 / crops
        noise = (large[f"spread_{key}"] + small[f"spread_{key}"]) * 2 ** 20 / crops
        out[f"{key[:-3]}_growth_B_per_crop"] = round(growth, 1)
        out[f"{key[:-3]}_growth_noise_B_per_crop"] = round(noise, 1)   # from the runs' max - min at each size
    return out


def _spread(values: list[float]) -> float:
    return max(values) - min(values)
