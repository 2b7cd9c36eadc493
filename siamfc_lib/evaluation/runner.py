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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

import numpy as np
import torch

from ..config.core import build
from ..config.tracking import EvalConfig, TrackerConfig
from ..data.otb import OTBDataset, OTBSequence
from ..devices import resolve_device
from ..io_utils import atomic_write_text
from ..progress import track
from ..reporting.labels import dataset_label, write_eval_info
from ..tracking.baselines import make_baselines
from ..tracking.batched import BatchedSiamFC
from ..tracking.tracker import SiamFCTracker
from ..training.trainer import device_name
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


def tracker_fingerprint(tracker: SequenceTracker) -> str:
    """What the boxes depend on: the network's weights and the tracker's settings (or the
    OpenCV tracker and version)."""
    digest = hashlib.sha256()
    model = getattr(tracker, "model", None)
    if model is not None:
        for key, value in model.state_dict().items():
            digest.update(key.encode())
            digest.update(value.detach().float().cpu().contiguous().numpy().tobytes())
    import cv2

    digest.update(repr(getattr(tracker, "cfg", (type(tracker).__name__, cv2.__version__))).encode())
    return digest.hexdigest()[:20]


def _keep_results_of_same_tracker(run_dir: str | Path, tracker: SequenceTracker) -> None:
    """Drop ``tracker.name``'s results when they were made by another model or setting."""
    folder = Path(run_dir) / "results" / tracker.name
    stamp = folder / ".tracker"
    fingerprint = tracker_fingerprint(tracker)
    if folder.exists() and (not stamp.exists() or stamp.read_text().strip() != fingerprint):
        shutil.rmtree(folder)
        shutil.rmtree(Path(run_dir) / "times" / tracker.name, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, fingerprint)


def run_tracker(tracker: SequenceTracker, sequences: Iterable[OTBSequence], run_dir: str | Path,
                primary: bool = False, resume: bool = True, progress: bool | None = None) -> list[str]:
    """Track every sequence, writing times then results; returns the names actually tracked."""
    sequences = list(sequences)
    if resume:
        _keep_results_of_same_tracker(run_dir, tracker)
    tracked = []
    for seq in track(sequences, desc=f"OPE {tracker.name}", enabled=progress, unit="sequence", size=len, size_unit="frame"):
        result = result_path(run_dir, tracker.name, seq.name)
        if resume and result.exists():
            continue
        boxes_otb, times = tracker.track_frames(seq.img_files, seq.gt[0])
        _write_sequence(run_dir, tracker.name, seq.name, boxes_otb, times, primary)
        tracked.append(seq.name)
    return tracked


def run_batched(tracker: BatchedSiamFC, sequences: Iterable[OTBSequence], run_dir: str | Path,
                primary: bool = False, resume: bool = True) -> list[str]:
    """:func:`run_tracker` for many sequences in lockstep: same files, each written as it finishes."""
    if resume:
        _keep_results_of_same_tracker(run_dir, tracker)
    todo = [s for s in sequences if not (resume and result_path(run_dir, tracker.name, s.name).exists())]
    for index, boxes_otb, times in tracker.track_many([(s.img_files, s.gt[0]) for s in todo]):
        _write_sequence(run_dir, tracker.name, todo[index].name, boxes_otb, times, primary)
    return [s.name for s in todo]


def _write_sequence(run_dir: str | Path, name: str, sequence: str, boxes_otb: np.ndarray, times: np.ndarray,
                    primary: bool) -> None:
    """Times first, result last: a result file only exists for a finished sequence."""
    _savetxt(times_path(run_dir, name, sequence), times, "%.8f")
    if primary:
        _savetxt(primary_times_path(run_dir, sequence), times, "%.8f")
    _savetxt(result_path(run_dir, name, sequence), boxes_otb, "%.3f")


def make_siamfc(model: torch.nn.Module, cfg: EvalConfig, tracker_cfg: TrackerConfig | None, device,
                name: str) -> SiamFCTracker | BatchedSiamFC:
    """The SiamFC tracker the evaluation options ask for (batched when ``batch_sequences > 1``).

    Batched tracking samples crops like ``crop_backend="grid"``; the host warp differs in
    interpolation rounding, which can move a peak by one upsampled-map pixel.
    """
    amp = None if cfg.amp == "none" else cfg.amp
    if cfg.batch_sequences > 1:
        return BatchedSiamFC(model, tracker_cfg, device, cfg.batch_sequences, amp=amp, name=name)
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
    from ..training.checkpoints import epoch_path, load_model_from_checkpoint

    if checkpoint:
        path = Path(checkpoint)
        run_dir = path if path.is_dir() else path.parent.parent if path.parent.name == "checkpoints" else None
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


def run_evaluation(params: Mapping[str, Any] | EvalConfig, tracker_cfg: TrackerConfig | None = None,
                   progress: bool | None = None, model: torch.nn.Module | None = None,
                   extra_trackers: Sequence[SequenceTracker] = (),
                   log: Callable[[str], None] = print) -> EvalOutcome:
    """The 05_eval_otb pipeline: SiamFC from ``checkpoint`` (+ untrained, + baselines), OPE, reports.

    ``model`` overrides the checkpoint (tests, benchmarks). Unknown parameters are errors.
    """
    cfg = params if isinstance(params, EvalConfig) else build(EvalConfig, params, ignore=("progress",))
    baselines = make_baselines(cfg.baselines)      # an unknown name fails before any tracking
    dataset = OTBDataset(cfg.otb_root, cfg.sequences, tiger1_init_omit=cfg.tiger1_init_omit)
    sequences = list(dataset)
    device = resolve_device(cfg.device)
    if model is None:
        model = load_checkpoint_model(cfg.checkpoint, "cpu")
    trackers: list = [make_siamfc(model, cfg, tracker_cfg, device, cfg.tracker_name)]
    if cfg.compare_untrained:
        base = untrained_model(cfg.checkpoint, model, cfg.seed)
        trackers.append(make_siamfc(base, cfg, tracker_cfg, device, cfg.tracker_name + UNTRAINED_SUFFIX))
    trackers += list(baselines) + list(extra_trackers)
    log(f"[eval] {len(sequences)} sequences, {sum(len(s) for s in sequences)} frames, device {device}, "
        f"trackers {[t.name for t in trackers]}")
    for tracker in trackers:
        primary = tracker.name == cfg.tracker_name
        if isinstance(tracker, BatchedSiamFC):
            done = run_batched(tracker, sequences, cfg.run_dir, primary=primary, resume=cfg.resume)
        else:
            done = run_tracker(tracker, sequences, cfg.run_dir, primary=primary, resume=cfg.resume,
                               progress=progress)
        log(f"[eval] {tracker.name}: tracked {len(done)}, reused {len(sequences) - len(done)}")
    name = cfg.dataset_name or dataset_label(cfg.otb_root)
    evaluations = evaluate_run(cfg.run_dir, [t.name for t in trackers], sequences, name, cfg.tracker_name)
    write_eval_info(cfg.run_dir, cfg.otb_root, device, device_name(device), cfg.checkpoint)
    return EvalOutcome(Path(cfg.run_dir), cfg.tracker_name, evaluations, dataset)

