"""Evaluate several epochs of one training run; report the last epoch AND the best one.

The best epoch is chosen by AUC on the very sequences evaluated: on OTB2015 that is
test-set selection, optimistic by construction, and flagged as such.
The last epoch is the honest number.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

from ..config.tracking import TrackerConfig
from ..data.otb import OTBSequence
from ..devices import resolve_device
from ..io_utils import atomic_write_text
from ..tracking.tracker import SiamFCTracker
from .report import Evaluation
from .runner import evaluate_run, load_checkpoint_model, run_tracker

SELECTION_NOTE = ("best = highest AUC on the evaluated sequences themselves: test-set selection, "
                  "optimistic; report the last epoch as the unbiased number")
SWEEP_FILE = "sweep.json"  # written into the sweep's eval run_dir (06_results reads it)
_EPOCH = re.compile(r"^siamfc_e(\d+)\.pth$")


def checkpoint_epochs(train_run_dir: str | Path) -> dict[int, Path]:
    """``{epoch: path}`` of ``checkpoints/siamfc_e*.pth`` in a training run."""
    folder = Path(train_run_dir) / "checkpoints"
    found = {int(m.group(1)): p for p in folder.glob("siamfc_e*.pth") if (m := _EPOCH.match(p.name))}
    return dict(sorted(found.items()))


def sweep_epochs(train_run_dir: str | Path, sequences: Sequence[OTBSequence], eval_run_dir: str | Path,
                 epochs: Sequence[int] | None = None, device: str = "cpu", tracker_cfg: TrackerConfig | None = None,
                 dataset_name: str = "OTB", progress: bool | None = None) -> dict:
    """Track with each epoch (tracker ``SiamFC_e{N}``), then summarise last and best."""
    available = checkpoint_epochs(train_run_dir)
    if not available:
        raise not_found("no per-epoch checkpoints", Path(train_run_dir) / "checkpoints" / "siamfc_e*.pth", "checkpoint")
    # The run's final epoch is always swept: "last" must mean the model training ended with.
    wanted = sorted(available) if epochs is None else sorted({int(e) for e in epochs} | {max(available)})
    missing = [e for e in wanted if e not in available]
    if missing:
        raise FileNotFoundError(f"epochs {missing} have no checkpoint in {train_run_dir}; "
                                f"available: {sorted(available)}")
    dev = resolve_device(device)
    names = []
    for epoch in wanted:
        name = f"SiamFC_e{epoch}"
        model = load_checkpoint_model(available[epoch], "cpu")
        run_tracker(SiamFCTracker(model, tracker_cfg, dev, name=name), sequences, eval_run_dir, progress=progress)
        names.append(name)
    evaluations: dict[str, Evaluation] = evaluate_run(eval_run_dir, names, sequences, dataset_name, primary=None)
    per_epoch = {e: evaluations[n].report for e, n in zip(wanted, names)}
    best_epoch = max(per_epoch, key=lambda e: (per_epoch[e]["auc"], e))
    last_epoch = max(per_epoch)

    def summary(epoch: int) -> dict:
        r = per_epoch[epoch]
        return {"epoch": epoch, "auc": r["auc"], "precision_20": r["precision_20"], "success_50": r["success_50"]}

    result = {"epochs": {e: summary(e) for e in wanted}, "last": summary(last_epoch), "best": summary(best_epoch),
              "selected_by": "auc", "selection_note": SELECTION_NOTE, "test_set_selection": True}
    atomic_write_text(Path(eval_run_dir) / SWEEP_FILE, json.dumps(result, indent=2))
    return {**result, "evaluations": evaluations}
