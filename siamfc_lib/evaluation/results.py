"""The files of an evaluation ``run_dir``: where each result lives, how it is written, whose it is.

Layout ``otb`` (got10k's OTB layout, flattened to one data set per run_dir):

* ``results/<Tracker>/<Seq>.txt``: one 1-based ``x,y,w,h`` row per frame (``%.3f``, comma);
* ``results/<Tracker>/.tracker``: the fingerprint of the network and settings that made them;
* ``times/<Tracker>/<Seq>_time.txt``: seconds per frame, every tracker;
* ``times/<Seq>_time.txt``: the primary tracker's times again, in the flat layout;
* ``eval_info.json``: the benchmark, data set, device and checkpoint of the run (read by the report).

Layout ``got10k`` (GOT-10k's, which its toolkit and evaluation server read): the same files, but
``results/<Tracker>/<seq>/<seq>_001.txt`` (the first repetition; a deterministic tracker needs
one) and ``results/<Tracker>/<seq>/<seq>_time.txt`` beside it, no ``times/`` folder.

A sequence's times are written first and its result last, each atomically: a result file
exists only for a finished sequence, so a run resumes by skipping sequences that have one
(got10k's ``run()``). Unlike got10k, results are kept only for the same tracker: a retrained
checkpoint's evaluation starts over instead of reusing the previous network's boxes.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..data.provenance import dataset_label
from ..io_utils import atomic_write_text

if TYPE_CHECKING:   # torch stays out of the baseline pool's workers (OpenCV only)
    import torch

EVAL_INFO = "eval_info.json"
STAMP = ".tracker"


LAYOUTS = ("otb", "got10k")


def _check(layout: str) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown results layout {layout!r}; known: {LAYOUTS}")
    return layout


def result_path(run_dir: str | Path, tracker: str, sequence: str, layout: str = "otb") -> Path:
    if _check(layout) == "got10k":
        return Path(run_dir) / "results" / tracker / sequence / f"{sequence}_001.txt"
    return Path(run_dir) / "results" / tracker / f"{sequence}.txt"


def times_path(run_dir: str | Path, tracker: str, sequence: str, layout: str = "otb") -> Path:
    if _check(layout) == "got10k":
        return Path(run_dir) / "results" / tracker / sequence / f"{sequence}_time.txt"
    return Path(run_dir) / "times" / tracker / f"{sequence}_time.txt"


def primary_times_path(run_dir: str | Path, sequence: str) -> Path:
    return Path(run_dir) / "times" / f"{sequence}_time.txt"


def read_boxes(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)


def _savetxt(path: Path, array: np.ndarray, fmt: str) -> None:
    buf = io.StringIO()
    np.savetxt(buf, array, fmt=fmt, delimiter=",")
    atomic_write_text(path, buf.getvalue())


def write_sequence(run_dir: str | Path, tracker: str, sequence: str, boxes_otb: np.ndarray, times: np.ndarray,
                   primary: bool = False, layout: str = "otb") -> None:
    """Times first, result last: a result file only exists for a finished sequence."""
    _savetxt(times_path(run_dir, tracker, sequence, layout), times, "%.8f")
    if primary and layout == "otb":
        _savetxt(primary_times_path(run_dir, sequence), times, "%.8f")
    _savetxt(result_path(run_dir, tracker, sequence, layout), boxes_otb, "%.3f")


def copy_sequence(src_dir: str | Path, src_tracker: str, run_dir: str | Path, tracker: str, sequence: str,
                  primary: bool = False, layout: str = "otb") -> bool:
    """Reuse a finished sequence of an identical network, in the same order as when tracked."""
    result = result_path(src_dir, src_tracker, sequence, layout)
    times = times_path(src_dir, src_tracker, sequence, layout)
    if not (result.exists() and times.exists()):
        return False
    text = times.read_text()
    atomic_write_text(times_path(run_dir, tracker, sequence, layout), text)
    if primary and layout == "otb":
        atomic_write_text(primary_times_path(run_dir, sequence), text)
    atomic_write_text(result_path(run_dir, tracker, sequence, layout), result.read_text())
    return True


def network_fingerprint(model: torch.nn.Module | None, settings: Any) -> str:
    """What the boxes depend on: the network's weights (content, not file) and the settings."""
    digest = hashlib.sha256()
    if model is not None:
        for key, value in model.state_dict().items():
            digest.update(key.encode())
            digest.update(value.detach().float().cpu().contiguous().numpy().tobytes())
    digest.update(repr(settings).encode())
    return digest.hexdigest()[:20]


def tracker_fingerprint(tracker: Any) -> str:
    """A tracker's network and settings, or for an OpenCV tracker its class and OpenCV's version."""
    import cv2

    return network_fingerprint(getattr(tracker, "model", None),
                               getattr(tracker, "cfg", (type(tracker).__name__, cv2.__version__)))


def keep_results_of_same_tracker(run_dir: str | Path, tracker: str, fingerprint: str, resume: bool = True) -> None:
    """Stamp ``tracker``'s folder with ``fingerprint``, first dropping results another network made.

    ``resume=False`` only stamps: the caller tracks every sequence again, over the old files.
    """
    folder = Path(run_dir) / "results" / tracker
    stamp = folder / STAMP
    if resume and folder.exists() and (not stamp.exists() or stamp.read_text().strip() != fingerprint):
        shutil.rmtree(folder)
        shutil.rmtree(Path(run_dir) / "times" / tracker, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, fingerprint)


def finished(run_dir: str | Path, tracker: str, sequence: str, layout: str = "otb") -> bool:
    return result_path(run_dir, tracker, sequence, layout).exists()


def folders_of_network(fingerprint: str, run_dirs: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """``(run_dir, tracker)`` of every results folder stamped with ``fingerprint``."""
    found = []
    for run_dir in run_dirs:
        for stamp in sorted((Path(run_dir) / "results").glob(f"*/{STAMP}")):
            if stamp.read_text().strip() == fingerprint:
                found.append((Path(run_dir), stamp.parent.name))
    return found


def write_eval_info(run_dir: str | Path, otb_root: str | Path, device, device_name: str,
                    checkpoint: str | Path | None = None, benchmark: str = "otb2015", dataset: str | None = None,
                    **extra) -> dict:
    """``checkpoint`` (a .pth or a training run folder) lets the report tell evaluated runs from the rest;
    ``otb_root`` is the benchmark's root (the key keeps its first name); ``extra`` adds entries."""
    info = {"dataset": dataset or dataset_label(otb_root), "benchmark": benchmark,
            "otb_root": str(Path(otb_root).resolve()), "device": str(device), "device_name": device_name,
            "cpu_count": os.cpu_count(), "checkpoint": str(Path(checkpoint).resolve()) if checkpoint else None, **extra}
    atomic_write_text(Path(run_dir) / EVAL_INFO, json.dumps(info, indent=2))
    return info


def check_same_benchmark(run_dir: str | Path, benchmark: str, root: str | Path) -> None:
    """Refuse to evaluate ``benchmark`` in a run_dir that holds another benchmark's (or folder's)
    results: sequences of the same name would be taken for finished. Runs from before benchmarks
    were recorded count as ``otb2015``."""
    info = read_eval_info(run_dir)
    if not info:
        return
    before = info.get("benchmark", "otb2015")
    root_before = info.get("otb_root")
    if before != benchmark or (root_before and Path(root_before) != Path(root).resolve()):
        raise ValueError(f"{run_dir} holds an evaluation of {before} on {root_before}; evaluating {benchmark} on "
                         f"{Path(root).resolve()} there would mix their results: pass another run_dir "
                         "(05 puts each benchmark but otb2015 in run_dir/<benchmark>)")


def read_eval_info(run_dir: str | Path) -> dict:
    """The run's ``eval_info.json``; runs written before it existed get an empty dict."""
    path = Path(run_dir) / EVAL_INFO
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
