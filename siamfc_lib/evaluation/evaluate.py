"""``evaluate_benchmarks`` / ``run_evaluation``: the 05_eval_otb pipeline in one call. Nothing in
this package imports it.

SiamFC from ``checkpoint`` (plus the untrained network and the sweep's epochs), the OpenCV
baselines and any extra tracker are run over a benchmark's sequences with the one-pass
protocol, resuming per sequence and tracker; then every tracker is scored by the benchmark's
protocol (:mod:`.protocols`), the sweep summarised, and the run's benchmark, data set and
device recorded for the report. GOT-10k test, whose boxes are hidden, ends with the submission
zip, checked against the server's layout (:mod:`.submission`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from ..config.core import build
from ..config.tracking import EvalConfig, TrackerConfig
from ..deploy.backends import backend_label, network_for
from ..devices import device_name, resolve_device
from ..tracking.baselines import make_baselines
from ..tracking.tracker import SiamFCTracker
from .baseline_pool import run_baselines
from .engine import ModelJob, SequenceTracker, run_models, run_tracker
from .networks import evaluation_jobs
from .protocols import Protocol
from .results import check_same_benchmark, network_fingerprint, write_eval_info
from .scoring import Evaluation, score_run
from .submission import check_submission, submission_path, write_submission
from .sweep import SWEEP_DIR, epoch_tracker, summarise_sweep
from .targets import Target, open_target, per_benchmark, scoreless_settings
from .training_data import got10k_protocol, require_got10k_protocol


@dataclass
class EvalOutcome:
    run_dir: Path
    primary: str
    evaluations: dict[str, Evaluation]
    dataset: Any                       # the benchmark's sequences (names, [name] -> sequence)
    sweep: dict | None = None          # sweep.json's content when sweep_epochs was set
    benchmark: str = "otb2015"
    label: str = ""                    # the data set's name in reports
    protocol: Protocol | None = None
    submission: Path | None = None     # GOT-10k test: the zip to upload (checked)
    training_protocol: dict | None = None   # GOT-10k: did the checkpoint follow its training protocol

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


def _track_networks(cfg: EvalConfig, jobs: list[ModelJob], sequences: list, tracker_cfg: TrackerConfig | None,
                    device, progress: bool | None, log: Callable[[str], None], layout: str) -> None:
    """Every network in one batched pass (``batch_sequences > 1``), or one sequence at a time."""
    if cfg.batch_sequences > 1:
        amp = None if cfg.amp == "none" else cfg.amp
        outcome = run_models(jobs, sequences, tracker_cfg, device, cfg.batch_sequences, cfg.crop_backend, amp,
                             cfg.decode_workers, cfg.resume, progress=progress, log=log, layout=layout)
        for name, r in outcome.items():
            _log_outcome(log, name, len(r["tracked"]), len(r["reused"]), len(r["copied"]))
        return
    for job in jobs:
        tracker = one_sequence_tracker(job.model, cfg, tracker_cfg, device, job.name)
        done = run_tracker(tracker, sequences, job.run_dir, primary=job.primary, resume=cfg.resume,
                           progress=progress, layout=layout)
        _log_outcome(log, job.name, len(done), len(sequences) - len(done))


def _track_others(cfg: EvalConfig, sequences: list, extra_trackers: Sequence[SequenceTracker], progress: bool | None,
                  log: Callable[[str], None], layout: str) -> None:
    """The OpenCV baselines (in parallel processes) and any extra tracker (one sequence at a time)."""
    if cfg.baselines:
        done = run_baselines(cfg.baselines, sequences, cfg.run_dir, cfg.resume, cfg.baseline_workers, log, layout)
        for name, seqs in done.items():
            _log_outcome(log, name, len(seqs), len(sequences) - len(seqs))
    for tracker in extra_trackers:
        done = run_tracker(tracker, sequences, cfg.run_dir, resume=cfg.resume, progress=progress, layout=layout)
        _log_outcome(log, tracker.name, len(done), len(sequences) - len(done))


def _score_sweep(cfg: EvalConfig, jobs: list[ModelJob], epochs: dict[int, Path], sequences: list,
                 tracker_cfg: TrackerConfig | None, target: Target) -> dict:
    sweep_dir = Path(cfg.run_dir) / SWEEP_DIR
    names = [epoch_tracker(e) for e in epochs]
    evaluations = score_run(sweep_dir, names, sequences, target.label, None, target.protocol)
    by_name = {j.name: j for j in jobs}
    fingerprints = {e: by_name[epoch_tracker(e)].fingerprint
                    or network_fingerprint(by_name[epoch_tracker(e)].model, tracker_cfg or TrackerConfig())
                    for e in epochs}
    return summarise_sweep(epochs, evaluations, fingerprints, sweep_dir, target.protocol, target.key)


def _training_protocol(cfg: EvalConfig, target: Target, log: Callable[[str], None]) -> dict | None:
    """GOT-10k only: whether the checkpoint was trained as its protocol asks; test refuses otherwise."""
    if not target.key.startswith("got10k"):
        return None
    status = (require_got10k_protocol(cfg.checkpoint, cfg.allow_off_protocol) if not target.protocol.scored
              else got10k_protocol(cfg.checkpoint))
    log(f"[eval] GOT-10k protocol: {status['note']}")
    return status


def _submit(cfg: EvalConfig, target: Target, status: dict | None, log: Callable[[str], None]) -> Path:
    """GOT-10k test: the zip of the evaluated network's results, checked as the server would."""
    suffix = "" if not status or status["followed"] is not False else "_off-protocol"
    out = submission_path(cfg.run_dir, cfg.tracker_name + suffix)
    write_submission(cfg.run_dir, cfg.tracker_name, target.dataset.names, out)
    check_submission(out, target.dataset)
    log(f"[eval] GOT-10k test submission (checked against the server's layout): {out}")
    return out


def describe_outcome(outcome: EvalOutcome) -> str:
    """A few Markdown lines on how a benchmark was scored, for 05's results section."""
    proto = outcome.protocol
    lines = [f"Scored by {proto.source}; results in `{outcome.run_dir}`."] if proto else []
    if outcome.training_protocol:
        lines.append(f"GOT-10k training protocol: {outcome.training_protocol['note']}.")
    if outcome.submission:
        lines.append(f"Submission for the GOT-10k server (checked against its layout): `{outcome.submission}`.")
    return "\n\n".join(lines)


def run_evaluation(params: Mapping[str, Any] | EvalConfig, tracker_cfg: TrackerConfig | None = None,
                   progress: bool | None = None, model: torch.nn.Module | None = None,
                   extra_trackers: Sequence[SequenceTracker] = (),
                   log: Callable[[str], None] = print) -> EvalOutcome:
    """Track, score and summarise ONE benchmark per ``params`` (05's parameters) in ``run_dir``;
    unknown parameters are errors.

    With ``batch_sequences > 1`` (default) every network (trained, untrained and the sweep's
    epochs) is tracked in ONE batched pass over the sequences, each frame decoded once for all
    of them, and a network identical to another is not tracked twice. Baselines run in parallel
    processes. ``model`` overrides the checkpoint (tests, benchmarks).
    """
    cfg = params if isinstance(params, EvalConfig) else build(EvalConfig, params, ignore=("progress",))
    target = open_target(cfg, log)
    cfg = scoreless_settings(cfg, target, log)
    baselines = make_baselines(cfg.baselines)      # an unknown name fails before any tracking
    status = _training_protocol(cfg, target, log)
    check_same_benchmark(cfg.run_dir, target.key, target.root)
    sequences, device = list(target.dataset), resolve_device(cfg.device)
    model = model if model is not None else network_for(cfg.checkpoint, cfg.backend, cfg.run_dir, cfg.providers)
    jobs, sweep_epochs = evaluation_jobs(cfg, model)
    sweep_names = [epoch_tracker(e) for e in sweep_epochs]
    main_names = [j.name for j in jobs if j.name not in sweep_names] + [b.name for b in baselines] \
        + [t.name for t in extra_trackers]
    log(f"[eval] {target.label}: {len(sequences)} sequences, {sum(len(s) for s in sequences)} frames, device {device}, "
        f"trackers {main_names}" + (f", sweep {sweep_names}" if sweep_names else "")
        + (f"; {len(jobs)} network(s) batched over {cfg.batch_sequences} sequences" if cfg.batch_sequences > 1 else ""))
    info = dict(benchmark=target.key, dataset=target.label, protocol=target.protocol.name, training_protocol=status)
    runs_on = backend_label(model, device_name(device))
    write_eval_info(cfg.run_dir, target.root, device, runs_on, cfg.checkpoint, **info)
    _track_networks(cfg, jobs, sequences, tracker_cfg, device, progress, log, target.protocol.layout)
    _track_others(cfg, sequences, extra_trackers, progress, log, target.protocol.layout)
    evaluations = score_run(cfg.run_dir, main_names, sequences, target.label, cfg.tracker_name, target.protocol)
    sweep = _score_sweep(cfg, jobs, sweep_epochs, sequences, tracker_cfg, target) if sweep_epochs else None
    submission = None if target.protocol.scored else _submit(cfg, target, status, log)
    write_eval_info(cfg.run_dir, target.root, device, runs_on, cfg.checkpoint, **info,
                    submission=str(submission) if submission else None)
    return EvalOutcome(Path(cfg.run_dir), cfg.tracker_name, evaluations, target.dataset, sweep, target.key,
                       target.label, target.protocol, submission, status)


def evaluate_benchmarks(params: Mapping[str, Any] | EvalConfig, tracker_cfg: TrackerConfig | None = None,
                        progress: bool | None = None, model: torch.nn.Module | None = None,
                        log: Callable[[str], None] = print) -> list[EvalOutcome]:
    """:func:`run_evaluation` for each benchmark of ``params["benchmark"]`` (one name or a list), each in
    its own run folder (``run_dir`` for otb2015, ``run_dir/<benchmark>`` otherwise); 05 calls this."""
    cfg = params if isinstance(params, EvalConfig) else build(EvalConfig, params, ignore=("progress",))
    return [run_evaluation(one, tracker_cfg, progress, model, log=log) for one in per_benchmark(cfg)]

