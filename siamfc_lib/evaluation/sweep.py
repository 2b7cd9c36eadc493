"""The epoch sweep: which checkpoints of a training run to evaluate, and last vs best.

The best epoch is chosen by the protocol's headline (AUC; AO on GOT-10k) on the very sequences
evaluated: on OTB2015 that is test-set selection (peers report their best epoch this way),
optimistic by construction, and flagged as such; on GOT-10k val, a validation split, it is
model selection as intended. The last epoch is the honest number.

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
from .protocols import Protocol
from .scoring import Evaluation

SELECTION_NOTE = ("best = highest AUC on the evaluated sequences themselves: test-set selection, "
                  "optimistic; report the last epoch as the unbiased number")
# What each epoch's row holds, per kind of protocol (the first key selects the best epoch).
SWEEP_KEYS = {"auc": ("auc", "precision_20", "success_50"), "ao": ("ao", "sr_50", "sr_75")}
VALIDATION_SPLITS = ("got10k_val",)   # benchmarks meant for model selection: picking on them is not test-set selection
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
    keys = SWEEP_KEYS.get(result.get("selected_by", "auc"), SWEEP_KEYS["auc"])
    best_mark = "best (test-set selection)" if result.get("test_set_selection", True) else "best (validation)"
    rows = ["| epoch | " + " | ".join(HEADERS.get(k, k) for k in keys) + " | |", "|---:|" + "---:|" * len(keys) + "---|"]
    for epoch, r in sorted(result["epochs"].items(), key=lambda kv: int(kv[0])):
        marks = [m for m, on in (("last", int(epoch) == last), (best_mark, int(epoch) == best)) if on]
        rows.append(f"| {epoch} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + f" | {', '.join(marks)} |")
    return "\n".join(rows) + f"\n\n{result['selection_note']}\n"


HEADERS = {"auc": "AUC", "precision_20": "precision@20", "success_50": "success@0.5", "ao": "AO", "sr_50": "SR0.5",
           "sr_75": "SR0.75"}


def selection(protocol: Protocol | None, benchmark: str) -> tuple[str, str, bool]:
    """``(key selected by, note, test-set selection?)`` for a protocol and benchmark."""
    key = protocol.headline if protocol is not None and protocol.headline in SWEEP_KEYS else "auc"
    if benchmark in VALIDATION_SPLITS:
        return key, (f"best = highest {HEADERS[key]} on {benchmark}, a validation split: model selection as the "
                     "benchmark intends; the test split gives the unbiased number"), False
    if key == "auc":
        return key, SELECTION_NOTE, True
    return key, (f"best = highest {HEADERS[key]} on the evaluated sequences themselves: test-set selection, "
                 "optimistic; report the last epoch as the unbiased number"), True


def summarise_sweep(paths: dict[int, Path], evaluations: dict[str, Evaluation],
                    fingerprints: dict[int, str], sweep_dir: str | Path, protocol: Protocol | None = None,
                    benchmark: str = "otb2015") -> dict:
    """Last and best epoch from each epoch's evaluation; writes ``sweep.json`` and ``sweep.md``."""
    key, note, test_set = selection(protocol, benchmark)
    keys = SWEEP_KEYS[key]
    per_epoch = {e: evaluations[epoch_tracker(e)].report for e in paths}
    best_epoch = max(per_epoch, key=lambda e: (per_epoch[e][key], e))
    same = {e: [o for o in paths if o != e and fingerprints[o] == fingerprints[e]] for e in paths}

    def summary(epoch: int) -> dict:
        return {"epoch": epoch, **{k: per_epoch[epoch][k] for k in keys}}

    result = {"epochs": {e: {**summary(e), "checkpoint_sha256": file_sha256(p), "same_network_as": same[e]}
                         for e, p in paths.items()},
              "last": summary(max(per_epoch)), "best": summary(best_epoch),
              "selected_by": key, "selection_note": note, "test_set_selection": test_set}
    atomic_write_text(Path(sweep_dir) / SWEEP_FILE, json.dumps(result, indent=2))
    atomic_write_text(Path(sweep_dir) / SWEEP_TABLE, sweep_table(result))
    return result
