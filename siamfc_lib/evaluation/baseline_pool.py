"""CSRT and KCF in parallel processes, one core each, their fps still per sequence on one core.

OpenCV trackers are single-sequence and CPU-bound, so the only speed-up is more sequences at
once. Each worker is a *spawned* process (a forked child of a parent that already ran OpenCV
can deadlock in ``cv2.setNumThreads``) that calls ``cv2.setNumThreads(1)`` before any other
OpenCV call, so a sequence's per-frame times are one core's times, comparable with a
sequential run. The parent writes every result file, in the runner's order (times first,
result last), so a crash loses at most the sequences in flight.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..cores import one_opencv_thread, usable_cores
from ..data.otb import OTBSequence
from ..tracking.baselines import BASELINES, make_baseline, make_baselines
from .results import finished, keep_results_of_same_tracker, tracker_fingerprint, write_sequence


def _track_one(kind: str, img_files: list[str], box: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return make_baseline(kind).track_frames(img_files, box)


def run_baselines(names: Sequence[str], sequences: Sequence[OTBSequence], run_dir: str | Path,
                  resume: bool = True, workers: int = 0, log: Callable[[str], None] = print,
                  layout: str = "otb") -> dict[str, list[str]]:
    """Track every (baseline, sequence) not done yet in up to ``workers`` processes (0: one per core)."""
    trackers = make_baselines(names)
    todo = []
    for tracker in trackers:
        keep_results_of_same_tracker(run_dir, tracker.name, tracker_fingerprint(tracker), resume)
        todo += [(tracker.name, s) for s in sequences
                 if not (resume and finished(run_dir, tracker.name, s.name, layout))]
    done: dict[str, list[str]] = {t.name: [] for t in trackers}
    if not todo:
        return done
    todo.sort(key=lambda job: -len(job[1]))     # longest first: the last worker finishes soonest
    workers = min(len(todo), workers if workers > 0 else usable_cores())
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=one_opencv_thread) as pool:
        kinds = {label: key for key, label in BASELINES.items()}
        futures = {pool.submit(_track_one, kinds[name], [str(f) for f in seq.img_files],
                               [float(v) for v in seq.gt[0]]): (name, seq) for name, seq in todo}
        for count, future in enumerate(as_completed(futures), 1):
            name, seq = futures[future]
            boxes_otb, times = future.result()
            write_sequence(run_dir, name, seq.name, boxes_otb, times, layout=layout)
            done[name].append(seq.name)
            if count % 10 == 0 or count == len(futures):
                log(f"[eval] baselines: {count}/{len(futures)} sequences ({workers} processes)")
    return done

