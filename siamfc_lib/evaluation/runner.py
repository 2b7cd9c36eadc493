"""One-pass evaluation (OPE): run trackers over OTB-format sequences, save, score, report.

Resumable like got10k's ``run()``: a sequence whose result file exists is skipped (the
result is written last, atomically, so it only exists when the sequence finished). Unlike
got10k, results are kept only for the same tracker: ``results/<Tracker>/.tracker`` holds a
fingerprint of its weights and settings, and a retrained checkpoint's evaluation starts over
instead of reusing the previous model's boxes.
"""
from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

import numpy as np
import torch

from ..config.core import build
from ..config.tracking import EvalConfig, TrackerConfig
from ..data.otb import OTBDataset, OTBSequence
from ..devices import as_device, device_name, resolve_device
from ..io_utils import atomic_write_text
from ..progress import track
from ..reporting.labels import dataset_label, write_eval_info
from ..tracking.baselines import make_baselines
from ..tracking.tracker import SiamFCTracker
from .report import Evaluation, evaluate_tracker, primary_times_path, result_path, times_path, write_reports

UNTRAINED_SUFFIX = "-untrained"


class SequenceTracker(Protocol):
    name: str

    def track_frames(self, frames: Iterable, box_otb: Sequence[float]) -> tuple[np.ndarray, np.ndarray]: ...


def _savetxt(path: Path, array: np.ndarray, fmt: str, delimiter: str = ",") -> None:
    import io

    buf = io.StringIO()
    np.savetxt(buf, array, fmt=fmt, delimiter=delimiter)
    atomic_write_text(path, buf.getvalue())


def model_fingerprint(model: torch.nn.Module | None, settings: Any) -> str:
    """What the boxes depend on: the network's weights (content, not file) and the settings."""
    digest = hashlib.sha256()
    if model is not None:
        for key, value in model.state_dict().items():
            digest.update(key.encode())
            digest.update(value.detach().float().cpu().contiguous().numpy().tobytes())
    digest.update(repr(settings).encode())
    return digest.hexdigest()[:20]


def tracker_fingerprint(tracker: SequenceTracker) -> str:
    """What the boxes depend on: the network's weights and the tracker's settings (or the
    OpenCV tracker and version)."""
    import cv2

    return model_fingerprint(getattr(tracker, "model", None),
                             getattr(tracker, "cfg", (type(tracker).__name__, cv2.__version__)))


def _keep_results_of_same_tracker(run_dir: str | Path, tracker: SequenceTracker | str,
                                  fingerprint: str | None = None) -> None:
    """Drop ``tracker.name``'s results when they were made by another model or setting."""
    name = tracker if isinstance(tracker, str) else tracker.name
    folder = Path(run_dir) / "results" / name
    stamp = folder / ".tracker"
    fingerprint = fingerprint or tracker_fingerprint(tracker)
    if folder.exists() and (not stamp.exists() or stamp.read_text().strip() != fingerprint):
        shutil.rmtree(folder)
        shutil.rmtree(Path(run_dir) / "times" / name, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, fingerprint)


def run_tracker(tracker: SequenceTracker, sequences: Iterable[OTBSequence], run_dir: str | Path,
                primary: bool = False, resume: bool = True, progress: bool | None = None) -> list[str]:
    """Track every sequence, writing times then results; returns the names actually tracked."""
    sequences = list(sequences)
    if resume:
        _keep_results_of_same_tracker(run_dir, tracker)
    tracked = []
    for seq in track(sequences, desc=f"OPE {tracker.name}", enabled=progress, unit="sequence", size=len,
                     size_unit="frame"):
        result = result_path(run_dir, tracker.name, seq.name)
        if resume and result.exists():
            continue
        boxes_otb, times = tracker.track_frames(seq.img_files, seq.gt[0])
        _write_sequence(run_dir, tracker.name, seq.name, boxes_otb, times, primary)
        tracked.append(seq.name)
    return tracked


def _write_sequence(run_dir: str | Path, name: str, sequence: str, boxes_otb: np.ndarray, times: np.ndarray,
                    primary: bool) -> None:
    """Times first, result last: a result file only exists for a finished sequence."""
    _savetxt(times_path(run_dir, name, sequence), times, "%.8f")
    if primary:
        _savetxt(primary_times_path(run_dir, sequence), times, "%.8f")
    _savetxt(result_path(run_dir, name, sequence), boxes_otb, "%.3f")


@dataclass
class ModelJob:
    """One network to evaluate under ``name`` in ``run_dir`` (``primary``: also times/<Seq>_time.txt)."""

    name: str
    model: torch.nn.Module
    run_dir: Path
    primary: bool = False
    fingerprint: str = ""


def _copy_sequence(src_dir: Path, src_name: str, job: ModelJob, sequence: str) -> bool:
    """Reuse a finished sequence of an identical model: times first, result last, as when tracked."""
    result = result_path(src_dir, src_name, sequence)
    times = times_path(src_dir, src_name, sequence)
    if not (result.exists() and times.exists()):
        return False
    text = times.read_text()
    atomic_write_text(times_path(job.run_dir, job.name, sequence), text)
    if job.primary:
        atomic_write_text(primary_times_path(job.run_dir, sequence), text)
    atomic_write_text(result_path(job.run_dir, job.name, sequence), result.read_text())
    return True


def _same_model_folders(fingerprint: str, dirs: Sequence[Path]) -> list[tuple[Path, str]]:
    """``(run_dir, tracker)`` of every results folder stamped with ``fingerprint``."""
    found = []
    for run_dir in dirs:
        for stamp in sorted((Path(run_dir) / "results").glob("*/.tracker")):
            if stamp.read_text().strip() == fingerprint:
                found.append((Path(run_dir), stamp.parent.name))
    return found


class _Heartbeat:
    """A progress line every ``every_s`` seconds while sequences run in lockstep (none finish early)."""

    def __init__(self, desc: str, total: int, log: Callable[[str], None], every_s: float = 15.0):
        self.desc, self.total, self.log, self.every_s = desc, total, log, every_s
        self.done, self.start = 0, time.perf_counter()
        self.last = self.start

    def __call__(self, frames: int) -> None:
        self.done += frames
        now = time.perf_counter()
        if now - self.last >= self.every_s:
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            left = (self.total - self.done) / max(rate, 1e-9)
            self.log(f"{self.desc}: {self.done}/{self.total} frames ({rate:.1f} frames/s, "
                     f"{now - self.start:.0f}s elapsed, about {left:.0f}s left)")


def run_models(jobs: Sequence[ModelJob], sequences: Sequence[OTBSequence], tracker_cfg: TrackerConfig | None,
               device, batch_size: int = 16, crop_backend: str = "auto", amp: str | None = None,
               decode_workers: int = -1, resume: bool = True, reuse_from: Sequence[str | Path] = (),
               progress: bool | None = None, log: Callable[[str], None] | None = None) -> dict[str, dict[str, list[str]]]:
    """Evaluate several networks on the same sequences in one batched pass; frames decoded once.

    A network identical to another (same weights and settings: ``model_fingerprint``) is tracked
    once and its result files copied, also from earlier runs found in ``reuse_from`` and the
    jobs' own run_dirs. Resumable per sequence and model. Returns
    ``{name: {"tracked": [...], "copied": [...], "reused": [...]}}``.
    """
    from ..tracking.batched import MultiSiamFC
    from ..tracking.frames import FramePool

    cfg = tracker_cfg or TrackerConfig()
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"two evaluation jobs share a tracker name: {names}")
    for job in jobs:
        job.fingerprint = job.fingerprint or model_fingerprint(job.model, cfg)
        if resume:
            _keep_results_of_same_tracker(job.run_dir, job.name, job.fingerprint)
        else:
            (Path(job.run_dir) / "results" / job.name).mkdir(parents=True, exist_ok=True)
            atomic_write_text(Path(job.run_dir) / "results" / job.name / ".tracker", job.fingerprint)
    outcome = {j.name: {"tracked": [], "copied": [], "reused": []} for j in jobs}
    missing = {j.name: [s.name for s in sequences if not (resume and result_path(j.run_dir, j.name, s.name).exists())]
               for j in jobs}
    for j in jobs:
        outcome[j.name]["reused"] = [s.name for s in sequences if s.name not in missing[j.name]]
    # Identical networks: the first of each fingerprint is tracked, the others copy its files.
    canonical: dict[str, ModelJob] = {}
    for job in jobs:
        canonical.setdefault(job.fingerprint, job)
    search = list(dict.fromkeys([Path(d) for d in reuse_from] + [Path(j.run_dir) for j in jobs]))
    for job in canonical.values():
        if not missing[job.name]:
            continue
        for src_dir, src_name in _same_model_folders(job.fingerprint, search):
            if (src_dir, src_name) == (Path(job.run_dir), job.name):
                continue
            for seq in list(missing[job.name]):
                if _copy_sequence(src_dir, src_name, job, seq):
                    missing[job.name].remove(seq)
                    outcome[job.name]["copied"].append(seq)
    todo_by_seq = {s.name: [j.name for j in canonical.values() if s.name in missing[j.name]] for s in sequences}
    work = [(s.img_files, s.gt[0], todo_by_seq[s.name]) for s in sequences]
    total = sum(len(n) for n in todo_by_seq.values())
    if total:
        by_name = {j.name: j for j in jobs}
        wanted = {n for names_ in todo_by_seq.values() for n in names_}
        desc = f"OPE {len(wanted)} network(s) x {len(sequences)} sequences"
        frames_total = sum((len(s) - 1) * len(todo_by_seq[s.name]) for s in sequences)
        with FramePool(decode_workers, host_compute=as_device(device).kind == "cpu") as pool:
            engine = MultiSiamFC({n: by_name[n].model for n in names if n in wanted}, cfg, device, batch_size,
                                 amp=amp, crop_backend=crop_backend, frame_pool=pool)
            heartbeat = _Heartbeat(desc, frames_total, log if log is not None else print)
            for index, name, boxes_otb, times in track(engine.track(work, heartbeat), total=total, enabled=progress,
                                                       desc=desc, log=log):
                job = by_name[name]
                _write_sequence(job.run_dir, name, sequences[index].name, boxes_otb, times, job.primary)
                outcome[name]["tracked"].append(sequences[index].name)
    for job in jobs:
        source = canonical[job.fingerprint]
        if source is job:
            continue
        for seq in list(missing[job.name]):
            if _copy_sequence(Path(source.run_dir), source.name, job, seq):
                outcome[job.name]["copied"].append(seq)
    return outcome


def make_siamfc(model: torch.nn.Module, cfg: EvalConfig, tracker_cfg: TrackerConfig | None, device,
                name: str) -> SiamFCTracker:
    """The one-sequence SiamFC tracker the evaluation options ask for (``batch_sequences: 1``)."""
    amp = None if cfg.amp == "none" else cfg.amp
    return SiamFCTracker(model, tracker_cfg, device, crop_backend=cfg.crop_backend, name=name,
                         cuda_graphs=cfg.cuda_graphs, amp=amp)


def load_checkpoint_model(checkpoint: str | Path, device: str = "cpu") -> torch.nn.Module:
    """The trainer's loader (a .pth or a run_dir -> its checkpoints/last.pth)."""
    from ..training.checkpoints import load_model_from_checkpoint

    return load_model_from_checkpoint(checkpoint, device)


def untrained_model(checkpoint: str | Path | None, like: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """The network before training: the run's ``siamfc_e0.pth`` if it exists, else a seeded init
    of the same width (the global torch RNG is left untouched)."""
    from ..model import build_model
    from ..training.checkpoints import epoch_path, load_model_from_checkpoint, run_dir_of

    if checkpoint:
        run_dir = run_dir_of(checkpoint)
        e0 = epoch_path(run_dir, 0) if run_dir is not None else None
        if e0 is not None and e0.exists():
            return load_model_from_checkpoint(e0, "cpu")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(width=float(getattr(like, "width", 1.0)), head_bias=like.head.bias is not None)


@dataclass
class EvalOutcome:
    run_dir: Path
    primary: str
    evaluations: dict[str, Evaluation]
    dataset: OTBDataset

    @property
    def reports(self) -> dict[str, dict]:
        return {name: ev.report for name, ev in self.evaluations.items()}


def evaluate_run(run_dir: str | Path, trackers: Sequence[str], sequences: Sequence[OTBSequence],
                 dataset_name: str, primary: str | None) -> dict[str, Evaluation]:
    """Score saved results of several trackers and write report.json / reports.json / curves.json."""
    evaluations = {name: evaluate_tracker(run_dir, name, sequences, dataset_name) for name in trackers}
    write_reports(run_dir, evaluations, primary)
    return evaluations


def sweep_jobs(cfg: EvalConfig) -> list[ModelJob]:
    """The sweep's networks (``SiamFC_e{N}`` in ``run_dir/sweep``), so 05 tracks them in the
    same pass as the trained and untrained networks; :func:`~.sweep.sweep_epochs` then only scores."""
    from .sweep import SWEEP_DIR, select_epochs, sweep_train_dir

    if not cfg.sweep_epochs or not cfg.checkpoint:
        return []
    train_dir = sweep_train_dir(cfg.checkpoint)
    return [ModelJob(f"SiamFC_e{epoch}", load_checkpoint_model(path, "cpu"), Path(cfg.run_dir) / SWEEP_DIR)
            for epoch, path in select_epochs(train_dir, cfg.sweep_epochs).items()]


def run_evaluation(params: Mapping[str, Any] | EvalConfig, tracker_cfg: TrackerConfig | None = None,
                   progress: bool | None = None, model: torch.nn.Module | None = None,
                   extra_trackers: Sequence[SequenceTracker] = (),
                   log: Callable[[str], None] = print) -> EvalOutcome:
    """The 05_eval_otb pipeline: SiamFC from ``checkpoint`` (+ untrained, + sweep, + baselines), OPE, reports.

    With ``batch_sequences > 1`` (default) every network (trained, untrained and the sweep's
    epochs) is tracked in ONE batched pass over the sequences, each frame decoded once for all
    of them; an epoch identical to another network (``siamfc_e50.pth`` == ``last.pth``) is not
    tracked twice. Baselines run in parallel processes. ``model`` overrides the checkpoint
    (tests, benchmarks). Unknown parameters are errors.
    """
    cfg = params if isinstance(params, EvalConfig) else build(EvalConfig, params, ignore=("progress",))
    baselines = make_baselines(cfg.baselines)      # an unknown name fails before any tracking
    dataset = OTBDataset(cfg.otb_root, cfg.sequences, tiger1_init_omit=cfg.tiger1_init_omit)
    sequences = list(dataset)
    device = resolve_device(cfg.device)
    if model is None:
        model = load_checkpoint_model(cfg.checkpoint, "cpu")
    run_dir = Path(cfg.run_dir)
    jobs = [ModelJob(cfg.tracker_name, model, run_dir, primary=True)]
    if cfg.compare_untrained:
        jobs.append(ModelJob(cfg.tracker_name + UNTRAINED_SUFFIX, untrained_model(cfg.checkpoint, model, cfg.seed),
                             run_dir))
    main_names = [j.name for j in jobs] + [b.name for b in baselines] + [t.name for t in extra_trackers]
    amp = None if cfg.amp == "none" else cfg.amp
    if cfg.batch_sequences > 1:
        sweep = sweep_jobs(cfg)
        jobs += sweep
        log(f"[eval] {len(sequences)} sequences, {sum(len(s) for s in sequences)} frames, device {device}, "
            f"trackers {main_names}" + (f", sweep {[j.name for j in sweep]}" if sweep else "")
            + f"; {len(jobs)} network(s) batched over {cfg.batch_sequences} sequences")
        outcome = run_models(jobs, sequences, tracker_cfg, device, cfg.batch_sequences, cfg.crop_backend, amp,
                             cfg.decode_workers, cfg.resume, progress=progress, log=log)
        for name, r in outcome.items():
            log(f"[eval] {name}: tracked {len(r['tracked'])}, reused {len(r['reused'])}"
                + (f", copied {len(r['copied'])} from an identical network" if r["copied"] else ""))
    else:
        log(f"[eval] {len(sequences)} sequences, {sum(len(s) for s in sequences)} frames, device {device}, "
            f"trackers {main_names}")
        for job in jobs:
            tracker = make_siamfc(job.model, cfg, tracker_cfg, device, job.name)
            done = run_tracker(tracker, sequences, cfg.run_dir, primary=job.primary, resume=cfg.resume,
                               progress=progress)
            log(f"[eval] {job.name}: tracked {len(done)}, reused {len(sequences) - len(done)}")
    if baselines:
        from .parallel import run_baselines

        done = run_baselines(cfg.baselines, sequences, cfg.run_dir, cfg.resume, cfg.baseline_workers, log)
        for name, seqs in done.items():
            log(f"[eval] {name}: tracked {len(seqs)}, reused {len(sequences) - len(seqs)}")
    for tracker in extra_trackers:
        done = run_tracker(tracker, sequences, cfg.run_dir, resume=cfg.resume, progress=progress)
        log(f"[eval] {tracker.name}: tracked {len(done)}, reused {len(sequences) - len(done)}")
    name = cfg.dataset_name or dataset_label(cfg.otb_root)
    evaluations = evaluate_run(cfg.run_dir, main_names, sequences, name, cfg.tracker_name)
    write_eval_info(cfg.run_dir, cfg.otb_root, device, device_name(device), cfg.checkpoint)
    return EvalOutcome(Path(cfg.run_dir), cfg.tracker_name, evaluations, dataset)
