"""GOT-10k's scoring of saved results: val by its protocol, test reported without scores.

Val (got10k ``ExperimentGOT10k.report``): every repetition found (``<seq>_001.txt``,
``_002``...) is read, frame 1 and frames with ``cover == 0`` are left out, IoUs are taken on boxes
clipped to the image and pooled over all sequences for AO, SR0.5 and SR0.75; speed is pooled
likewise. A sequence's own AO is the mean of its own IoUs. Test: only the evaluation server
has the boxes, so the report says so and carries the frame counts and speed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from .metrics import SequenceCurves, ao_scores, got10k_ious, pooled_fps
from .protocols import Protocol
from .results import read_boxes, result_path, times_path
from .evaluated import Evaluation

SCORED_BY = "the GOT-10k evaluation server (its test boxes are hidden)"


def repetitions(run_dir: str | Path, tracker: str, sequence: str) -> list[Path]:
    """``<seq>_001.txt``, ``<seq>_002.txt``... as got10k globs them (``<seq>_[0-9]*.txt``)."""
    first = result_path(run_dir, tracker, sequence, "got10k")
    if not first.exists():
        raise FileNotFoundError(f"no result for {tracker} on {sequence}: {first} (run the tracker first)")
    return sorted(first.parent.glob(f"{sequence}_[0-9]*.txt"))


def _times(run_dir, tracker: str, sequence: str) -> np.ndarray:
    path = times_path(run_dir, tracker, sequence, "got10k")
    return np.loadtxt(path, delimiter=",", ndmin=1).ravel() if path.exists() else np.zeros(0)


def _round(x: float) -> float:
    return float(round(x, 6))


def _summary(ious: np.ndarray, times: list[np.ndarray]) -> dict:
    s = ao_scores(ious)
    return {"ao": _round(s["ao"]), "sr_50": _round(s["sr_50"]), "sr_75": _round(s["sr_75"]),
            "fps": _round(pooled_fps(times)), "frames": int(len(ious))}


def evaluate_ao(run_dir: str | Path, tracker: str, sequences: Iterable, dataset_name: str,
                proto: Protocol) -> Evaluation:
    """AO, SR0.5, SR0.75 and the 101-threshold success curve, by GOT-10k's val protocol."""
    per_seq, pooled, times = {}, [], []
    for seq in sequences:
        ious = np.concatenate([got10k_ious(read_boxes(p), seq.gt, seq.meta["cover"], seq.meta["resolution_wh"])
                               for p in repetitions(run_dir, tracker, seq.name)])
        seq_times = _times(run_dir, tracker, seq.name)
        per_seq[seq.name] = _summary(ious, [seq_times])
        pooled.append(ious)
        times.append(seq_times)
    if not per_seq:
        raise ValueError(f"no sequences to evaluate for {tracker}")
    ious = np.concatenate(pooled)
    overall = _summary(ious, times)
    curve = ao_scores(ious)["success_curve"]
    report = {"tracker": tracker, "dataset": dataset_name, "sequences": len(per_seq), "frames": overall["frames"],
              **{k: overall[k] for k in ("ao", "sr_50", "sr_75", "fps")}, "per_sequence": per_seq, "per_attribute": {}}
    return Evaluation(report, SequenceCurves(curve, np.zeros(51), np.zeros(51), overall["frames"]), {}, "ao")


def evaluate_hidden(run_dir: str | Path, tracker: str, sequences: Iterable, dataset_name: str,
                    proto: Protocol) -> Evaluation:
    """No score (the ground truth is hidden); the frames tracked and the speed."""
    per_seq, times = {}, []
    for seq in sequences:
        repetitions(run_dir, tracker, seq.name)              # a missing result is an error here too
        seq_times = _times(run_dir, tracker, seq.name)
        per_seq[seq.name] = {"frames": len(seq), "fps": _round(pooled_fps([seq_times]))}
        times.append(seq_times)
    report = {"tracker": tracker, "dataset": dataset_name, "sequences": len(per_seq),
              "frames": int(sum(r["frames"] for r in per_seq.values())), "fps": _round(pooled_fps(times)),
              "scored_by": SCORED_BY, "per_sequence": per_seq, "per_attribute": {}}
    return Evaluation(report, SequenceCurves(np.zeros(21), np.zeros(51), np.zeros(51), report["frames"]), {}, "hidden")
