"""Tracking for evaluation: many networks over many sequences in one batched pass, or one tracker
sequence by sequence; both save through :mod:`.results` and resume per sequence and tracker.

A network identical to another (same weights and settings: ``network_fingerprint``) is tracked
once and its result files copied, also from earlier runs, so ``siamfc_e50.pth`` (byte-identical to
``last.pth``) costs nothing when ``last.pth`` is evaluated too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

import numpy as np
import torch

from ..config.tracking import TrackerConfig
from ..data.otb import OTBSequence
from ..devices import as_device
from ..progress import Progress, track
from .results import (copy_sequence, finished, folders_of_network, keep_results_of_same_tracker,
                      network_fingerprint, tracker_fingerprint, write_sequence)


class SequenceTracker(Protocol):
    name: str

    def track_frames(self, frames: Iterable, box_otb: Sequence[float]) -> tuple[np.ndarray, np.ndarray]: ...


def run_tracker(tracker: SequenceTracker, sequences: Iterable[OTBSequence], run_dir: str | Path,
                primary: bool = False, resume: bool = True, progress: bool | None = None,
                layout: str = "otb") -> list[str]:
    """Track every sequence not finished yet, one at a time; returns the names actually tracked.

    ``layout``: the results store's (:mod:`.results`), the benchmark protocol's choice."""
    sequences = list(sequences)
    keep_results_of_same_tracker(run_dir, tracker.name, tracker_fingerprint(tracker), resume)
    tracked = []
    for seq in track(sequences, desc=f"OPE {tracker.name}", enabled=progress, unit="sequence", size=len,
                     size_unit="frame"):
        if resume and finished(run_dir, tracker.name, seq.name, layout):
            continue
        boxes_otb, times = tracker.track_frames(seq.img_files, seq.gt[0])
        write_sequence(run_dir, tracker.name, seq.name, boxes_otb, times, primary, layout)
        tracked.append(seq.name)
    return tracked


@dataclass
class ModelJob:
    """One network to evaluate under ``name`` in ``run_dir`` (``primary``: also times/<Seq>_time.txt)."""

    name: str
    model: torch.nn.Module
    run_dir: Path
    primary: bool = False
    fingerprint: str = ""
    todo: list[str] = field(default_factory=list)     # sequences still to track or copy


Outcome = dict[str, dict[str, list[str]]]   # {name: {"tracked": [...], "copied": [...], "reused": [...]}}


def _prepare(jobs: Sequence[ModelJob], sequences: Sequence[OTBSequence], cfg: TrackerConfig,
             resume: bool, layout: str) -> Outcome:
    """Fingerprint and stamp every job, list what it still needs; sequences already done are reused."""
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"two evaluation jobs share a tracker name: {names}")
    outcome = {}
    for job in jobs:
        job.fingerprint = job.fingerprint or network_fingerprint(job.model, cfg)
        keep_results_of_same_tracker(job.run_dir, job.name, job.fingerprint, resume)
        job.todo = [s.name for s in sequences if not (resume and finished(job.run_dir, job.name, s.name, layout))]
        outcome[job.name] = {"tracked": [], "copied": [],
                             "reused": [s.name for s in sequences if s.name not in job.todo]}
    return outcome


def _copy_from(job: ModelJob, src_dir: Path, src_name: str, outcome: Outcome, layout: str) -> None:
    for seq in list(job.todo):
        if copy_sequence(src_dir, src_name, job.run_dir, job.name, seq, job.primary, layout):
            job.todo.remove(seq)
            outcome[job.name]["copied"].append(seq)


def _copy_earlier_results(canonical: Sequence[ModelJob], search: Sequence[Path], outcome: Outcome,
                          layout: str) -> None:
    """Sequences an identical network already finished, here or in an earlier run, are copied."""
    for job in canonical:
        if not job.todo:
            continue
        for src_dir, src_name in folders_of_network(job.fingerprint, search):
            if (src_dir, src_name) != (Path(job.run_dir), job.name):
                _copy_from(job, src_dir, src_name, outcome, layout)


def _track_batched(canonical: Sequence[ModelJob], sequences: Sequence[OTBSequence], cfg: TrackerConfig, device,
                   options: dict, outcome: Outcome, progress: bool | None, log: Callable[[str], None] | None,
                   layout: str) -> None:
    """One lockstep pass of every network with work left; each frame is decoded once for all of them."""
    from ..tracking.batched import MultiSiamFC
    from ..tracking.frames import FramePool

    by_name = {j.name: j for j in canonical if j.todo}
    work = [(s.img_files, s.gt[0], [j.name for j in by_name.values() if s.name in j.todo]) for s in sequences]
    frames_total = sum((len(s) - 1) * len(names) for s, (_, _, names) in zip(sequences, work))
    if not frames_total:
        return
    desc = f"OPE {len(by_name)} network(s) x {len(sequences)} sequences"
    with FramePool(options["decode_workers"], host_compute=as_device(device).kind == "cpu") as pool, \
            Progress(frames_total, desc, progress, log=log, unit="frame") as meter:
        engine = MultiSiamFC({n: j.model for n, j in by_name.items()}, cfg, device, options["batch_size"],
                             amp=options["amp"], crop_backend=options["crop_backend"], frame_pool=pool)
        for index, name, boxes_otb, times in engine.track(work, meter.update):
            job = by_name[name]
            write_sequence(job.run_dir, name, sequences[index].name, boxes_otb, times, job.primary, layout)
            job.todo.remove(sequences[index].name)
            outcome[name]["tracked"].append(sequences[index].name)


def run_models(jobs: Sequence[ModelJob], sequences: Sequence[OTBSequence], tracker_cfg: TrackerConfig | None,
               device, batch_size: int = 16, crop_backend: str = "auto", amp: str | None = None,
               decode_workers: int = -1, resume: bool = True, reuse_from: Sequence[str | Path] = (),
               progress: bool | None = None, log: Callable[[str], None] | None = None,
               layout: str = "otb") -> Outcome:
    """Evaluate several networks on the same sequences in one batched pass; frames decoded once.

    Identical networks are tracked once (the first job of each fingerprint); the others copy its
    files, as does any job whose network already has results in ``reuse_from`` or the jobs' own
    run_dirs. Returns ``{name: {"tracked": [...], "copied": [...], "reused": [...]}}``.
    """
    cfg = tracker_cfg or TrackerConfig()
    outcome = _prepare(jobs, sequences, cfg, resume, layout)
    canonical: dict[str, ModelJob] = {}
    for job in jobs:
        canonical.setdefault(job.fingerprint, job)
    search = list(dict.fromkeys([Path(d) for d in reuse_from] + [Path(j.run_dir) for j in jobs]))
    _copy_earlier_results(list(canonical.values()), search, outcome, layout)
    options = {"batch_size": batch_size, "crop_backend": crop_backend, "amp": amp, "decode_workers": decode_workers}
    _track_batched(list(canonical.values()), sequences, cfg, device, options, outcome, progress, log, layout)
    for job in jobs:
        source = canonical[job.fingerprint]
        if source is not job:
            _copy_from(job, Path(source.run_dir), source.name, outcome, layout)
    return outcome
