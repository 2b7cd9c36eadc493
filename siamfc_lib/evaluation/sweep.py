"""The epoch sweep: which checkpoints of a training run to evaluate, and last vs best.

The best epoch is chosen by AUC on the very sequences evaluated: on OTB2015 that is
test-set selection (peers report their best epoch this way), optimistic by construction,
and flagged as such. The last epoch is the honest number.

Tracking happens in 05's one batched pass with the other networks (:mod:`.evaluate`);
a checkpoint identical to a network already evaluated (the final epoch is ``last.pth``,
epoch 0 the untrained network) has its result files copied, not tracked again.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..io_utils import atomic_write_text, file_sha256
from ..paths import not_found
from ..training.checkpoints import epoch_checkpoints, run_dir_of
from .scoring import Evaluation

SELECTION_NOTE = ("best = highest AUC on the evaluated sequences themselves: test-set selection, "
                  "optimistic; report the last epoch as the unbiased number")
SWEEP_DIR = "sweep"        # 05 evaluates the sweep into run_dir/sweep
SWEEP_FILE = "sweep.json"  # written into the sweep's folder (06_results reads it)
SWEEP_TABLE = "sweep.md"
SWEEP_FIGURE = "figures/sweep.png"


def epoch_tracker(epoch: int) -> str:
    return f"SiamFC_e{epoch}"


def sweep_train_dir(checkpoint: str | Path) -> Path:
    """The training run whose epochs a sweep of ``checkpoint`` tracks (a run folder, or a file in its
    ``checkpoints/``); an imported weights file has no epochs to sweep."""
    run_dir = run_dir_of(checkpoint)
    if run_dir is None:
        raise ValueError(f"sweep_epochs needs a training run: {checkpoint} is not a run folder nor inside a "
                         "run's checkpoints/ folder (an imported weights file has no epochs): set sweep_epochs "
                         "to None, or pass the run folder as checkpoint")
    return run_dir


def select_epochs(train_run_dir: str | Path, epochs: Sequence[int] | str | None) -> dict[int, Path]:
    """``{epoch: path}`` for ``epochs`` (None or "all": every saved epoch), always with the final one."""
    available = epoch_checkpoints(train_run_dir)
    if not available:
        raise not_found("no per-epoch checkpoints", Path(train_run_dir) / "checkpoints" / "siamfc_e*.pth",
                        "checkpoint")
    if isinstance(epochs, str):
        if epochs.strip().lower() != "all":
            raise ValueError(f"sweep epochs must be a list of integers or 'all', got {epochs!r}")
        epochs = None
    # The run's final epoch is always swept: "last" must mean the model training ended with.
    wanted = sorted(available) if epochs is None else sorted({int(e) for e in epochs} | {max(available)})
    missing = [e for e in wanted if e not in available]
    if missing:
        raise FileNotFoundError(f"epochs {missing} have no checkpoint in {train_run_dir}; "
                                f"available: {sorted(available)}")
    return {e: available[e] for e in wanted}


def sweep_table(result: dict) -> str:
    """Markdown: one row per epoch, last and best marked (best flagged as test-set selection)."""
    last, best = result["last"]["epoch"], result["best"]["epoch"]
    rows = ["| epoch | AUC | precision@20 | success@0.5 | |", "|---:|---:|---:|---:|---|"]
    for epoch, r in sorted(result["epochs"].items(), key=lambda kv: int(kv[0])):
        marks = [m for m, on in (("last", int(epoch) == last), ("best (test-set selection)", int(epoch) == best)) if on]
        rows.append(f"| {epoch} | {r['auc']:.3f} | {r['precision_20']:.3f} | {r['success_50']:.3f} | "
                    f"{', '.join(marks)} |")
    return "\n".join(rows) + f"\n\n{result['selection_note']}\n"


def summarise_sweep(paths: dict[int, Path], evaluations: dict[str, Evaluation],
                    fingerprints: dict[int, str], sweep_dir: str | Path) -> dict:
    """Last and best epoch from each epoch's evaluation; writes ``sweep.json`` and ``sweep.md``."""
    per_epoch = {e: evaluations[epoch_tracker(e)].report for e in paths}
    best_epoch = max(per_epoch, key=lambda e: (per_epoch[e]["auc"], e))
    same = {e: [o for o in paths if o != e and fingerprints[o] == fingerprints[e]] for e in paths}

    def summary(epoch: int) -> dict:
        r = per_epoch[epoch]
        return {"epoch": epoch, "auc": r["auc"], "precision_20": r["precision_20"], "success_50": r["success_50"]}

    result = {"epochs": {e: {**summary(e), "checkpoint_sha256": file_sha256(p), "same_network_as": same[e]}
                         for e, p in paths.items()},
              "last": summary(max(per_epoch)), "best": summary(best_epoch),
              "selected_by": "auc", "selection_note": SELECTION_NOTE, "test_set_selection": True}
    atomic_write_text(Path(sweep_dir) / SWEEP_FILE, json.dumps(result, indent=2))
    atomic_write_text(Path(sweep_dir) / SWEEP_TABLE, sweep_table(result))
    return result
