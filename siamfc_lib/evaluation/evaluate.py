"""``run_evaluation``: the 05_eval_otb pipeline in one call. Nothing in this package imports it.

SiamFC from ``checkpoint`` (plus the untrained network and the sweep's epochs), the OpenCV
baselines and any extra tracker are run over an OTB-format folder with the one-pass protocol,
resuming per sequence and tracker; then every tracker is scored, the sweep summarised, and
the run's data set and device recorded for the report.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from ..config.core import build
from ..config.tracking import EvalConfig, TrackerConfig
from ..data.otb import OTBDataset, OTBSequence
from ..data.provenance import dataset_label
from ..devices import device_name, resolve_device
from ..tracking.baselines import make_baselines
from ..tracking.tracker import SiamFCTracker
from ..training.checkpoints import load_model_from_checkpoint
from .baseline_pool import run_baselines
from .engine import ModelJob, SequenceTracker, run_models, run_tracker
from .networks import evaluation_jobs
from .results import network_fingerprint, write_eval_info
from .scoring import Evaluation, score_run
from .sweep import SWEEP_DIR, epoch_tracker, summarise_sweep


@dataclass
class EvalOutcome:
    run_dir: Path
    primary: str
    evaluations: dict[str, Evaluation]
    dataset: OTBDataset
    sweep: dict | None = None          # sweep.json's content when sweep_epochs was set

    @property
    def reports(self) -> dict[str, dict]:
        return {name: ev.report for name, ev in self.evaluations.items()}


def one_sequence_tracker(model: torch.nn.Module, cfg: EvalConfig, tracker_cfg: TrackerConfig | None, device,
                         name: str) -> SiamFCTracker:
    """The one-sequence SiamFC tracker the evaluation options ask for (``batch_sequences: 1``)."""
    amp = None if cfg.amp == "none" else cfg.amp
    return SiamFCTracker(model, tracker_cfg, device, crop_backend=cfg.crop_backend, name=name,
                         cuda_graphs=cfg.cuda_graphs, amp=amp)


def _log_outcome(log: Callable[[str], None], name: str, tracked: int, reused: int, copied: int = 0) -> None:
    log(f"[eval] {name}: tracked {tracked}, reused {reused}"
        + (f", copied {copied} from an identical network" if copied else ""))


def _track_networks(cfg: EvalConfig, jobs: list[ModelJob], sequences: list[OTBSequence],
                    tracker_cfg: TrackerConfig | None, device, progress: bool | None,
                    log: Callable[[str], None]) -> None:
    """Every network in one batched pass (``batch_sequences > 1``), or one sequence at a time."""
    if cfg.batch_sequences > 1:
        amp = None if cfg.amp == "none" else cfg.amp
        outcome = run_models(jobs, sequences, tracker_cfg, device, cfg.batch_sequences, cfg.crop_backend, amp,
                             cfg.decode_workers, cfg.resume, progress=progress, log=log)
        for name, r in outcome.items():
            _log_outcome(log, name, len(r["tracked"]), len(r["reused"]), len(r["copied"]))
        return
    for job in jobs:
        tracker = one_sequence_tracker(job.model, cfg, tracker_cfg, device, job.name)
        done = run_tracker(tracker, sequences, job.run_dir, primary=job.primary, resume=cfg.resume,
                           progress=progress)
        _log_outcome(log, job.name, len(done), len(sequences) - len(done))


def _score_sweep(cfg: EvalConfig, jobs: list[ModelJob], epochs: dict[int, Path], sequences: list[OTBSequence],
                 tracker_cfg: TrackerConfig | None, dataset_name: str) -> dict:
    sweep_dir = Path(cfg.run_dir) / SWEEP_DIR
    names = [epoch_tracker(e) for e in epochs]
    evaluations = score_run(sweep_dir, names, sequences, dataset_name, primary=None)
    by_name = {j.name: j for j in jobs}
    fingerprints = {e: by_name[epoch_tracker(e)].fingerprint
                    or network_fingerprint(by_name[epoch_tracker(e)].model, tracker_cfg or TrackerConfig())
                    for e in epochs}
    return summarise_sweep(epochs, evaluations, fingerprints, sweep_dir)


def run_evaluation(params: Mapping[str, Any] | EvalConfig, tracker_cfg: TrackerConfig | None = None,
                   progress: bool | None = None, model: torch.nn.Module | None = None,
                   extra_trackers: Sequence[SequenceTracker] = (),
                   log: Callable[[str], None] = print) -> EvalOutcome:
    """Track, score and summarise per ``params`` (05's parameters); unknown parameters are errors.

    With ``batch_sequences > 1`` (default) every network (trained, untrained and the sweep's
    epochs) is tracked in ONE batched pass over the sequences, each frame decoded once for all
    of them, and a network identical to another is not tracked twice. Baselines run in parallel
    processes. ``model`` overrides the checkpoint (tests, benchmarks).
    """
    cfg = params if isinstance(params, EvalConfig) else build(EvalConfig, params, ignore=("progress",))
    baselines = make_baselines(cfg.baselines)      # an unknown name fails before any tracking
    dataset = OTBDataset(cfg.otb_root, cfg.sequences, tiger1_init_omit=cfg.tiger1_init_omit)
    sequences = list(dataset)
    device = resolve_device(cfg.device)
    model = model if model is not None else load_model_from_checkpoint(cfg.checkpoint, "cpu")
    jobs, sweep_epochs = evaluation_jobs(cfg, model)
    sweep_names = [epoch_tracker(e) for e in sweep_epochs]
    main_names = [j.name for j in jobs if j.name not in sweep_names] + [b.name for b in baselines] \
        + [t.name for t in extra_trackers]
    log(f"[eval] {len(sequences)} sequences, {sum(len(s) for s in sequences)} frames, device {device}, "
        f"trackers {main_names}" + (f", sweep {sweep_names}" if sweep_names else "")
        + (f"; {len(jobs)} network(s) batched over {cfg.batch_sequences} sequences" if cfg.batch_sequences > 1 else ""))
    _track_networks(cfg, jobs, sequences, tracker_cfg, device, progress, log)
    if baselines:
        done = run_baselines(cfg.baselines, sequences, cfg.run_dir, cfg.resume, cfg.baseline_workers, log)
        for name, seqs in done.items():
            _log_outcome(log, name, len(seqs), len(sequences) - len(seqs))
    for tracker in extra_trackers:
        done = run_tracker(tracker, sequences, cfg.run_dir, resume=cfg.resume, progress=progress)
        _log_outcome(log, tracker.name, len(done), len(sequences) - len(done))
    name = cfg.dataset_name or dataset_label(cfg.otb_root)
    evaluations = score_run(cfg.run_dir, main_names, sequences, name, cfg.tracker_name)
    sweep = _score_sweep(cfg, jobs, sweep_epochs, sequences, tracker_cfg, name) if sweep_epochs else None
    write_eval_info(cfg.run_dir, cfg.otb_root, device, device_name(device), cfg.checkpoint)
    return EvalOutcome(Path(cfg.run_dir), cfg.tracker_name, evaluations, dataset, sweep)
