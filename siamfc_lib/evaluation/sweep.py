"""Evaluate several epochs of one training run; report the last epoch AND the best one.

The best epoch is chosen by AUC on the very sequences evaluated: on OTB2015 that is
test-set selection (peers.md §7.12), optimistic by construction, and flagged as such.
The last epoch is the honest number.

Without waste: every epoch is tracked in one batched pass (frames decoded once for all of
them), and checkpoints are identified by content: two files with the same bytes are loaded
once, and a network identical to one already evaluated (``siamfc_e50.pth`` is byte-identical to
``last.pth``, which 05 evaluated as ``SiamFC``; ``siamfc_e0.pth`` is ``SiamFC-untrained``) has
its result files copied instead of being tracked again.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

from ..config.tracking import TrackerConfig
from ..data.otb import OTBSequence
from ..devices import resolve_device
from ..io_utils import atomic_write_text, file_sha256
from ..paths import not_found
from ..training.checkpoints import run_dir_of
from .report import Evaluation
from .runner import ModelJob, evaluate_run, load_checkpoint_model, run_models

SELECTION_NOTE = ("best = highest AUC on the evaluated sequences themselves: test-set selection, "
                  "optimistic; report the last epoch as the unbiased number")
SWEEP_FILE = "sweep.json"  # written into the sweep's eval run_dir (06_results reads it)
SWEEP_TABLE = "sweep.md"
SWEEP_FIGURE = "figures/sweep.png"
SWEEP_DIR = "sweep"        # 05 evaluates the sweep into run_dir/sweep
_EPOCH = re.compile(r"^siamfc_e(\d+)\.pth$")


def checkpoint_epochs(train_run_dir: str | Path) -> dict[int, Path]:
    """``{epoch: path}`` of ``checkpoints/siamfc_e*.pth`` in a training run."""
    folder = Path(train_run_dir) / "checkpoints"
    found = {int(m.group(1)): p for p in folder.glob("siamfc_e*.pth") if (m := _EPOCH.match(p.name))}
    return dict(sorted(found.items()))


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
    available = checkpoint_epochs(train_run_dir)
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


def sweep_epochs(train_run_dir: str | Path, sequences: Sequence[OTBSequence], eval_run_dir: str | Path,
                 epochs: Sequence[int] | str | None = None, device: str = "cpu",
                 tracker_cfg: TrackerConfig | None = None, dataset_name: str = "OTB", progress: bool | None = None,
                 batch_sequences: int = 16, decode_workers: int = -1,
                 reuse_from: Sequence[str | Path] | None = None) -> dict:
    """Track with each epoch (tracker ``SiamFC_e{N}``), then summarise last and best.

    ``reuse_from``: evaluation folders whose results of identical networks are copied (default:
    the folder above ``eval_run_dir``, where 05 put SiamFC and SiamFC-untrained).
    Writes ``sweep.json``, ``sweep.md`` (table) and ``figures/sweep.png`` (curve).
    """
    wanted = select_epochs(train_run_dir, epochs)
    eval_run_dir = Path(eval_run_dir)
    digests = {e: file_sha256(p) for e, p in wanted.items()}
    loaded: dict[str, object] = {}
    jobs = []
    for epoch, path in wanted.items():
        if digests[epoch] not in loaded:          # byte-identical files are read once
            loaded[digests[epoch]] = load_checkpoint_model(path, "cpu")
        jobs.append(ModelJob(f"SiamFC_e{epoch}", loaded[digests[epoch]], eval_run_dir))
    reuse = [eval_run_dir.parent] if reuse_from is None else list(reuse_from)
    run_models(jobs, sequences, tracker_cfg, resolve_device(device), batch_sequences,
               decode_workers=decode_workers, reuse_from=reuse, progress=progress)
    names = [j.name for j in jobs]
    evaluations: dict[str, Evaluation] = evaluate_run(eval_run_dir, names, sequences, dataset_name, primary=None)
    per_epoch = {e: evaluations[n].report for e, n in zip(wanted, names)}
    best_epoch = max(per_epoch, key=lambda e: (per_epoch[e]["auc"], e))
    last_epoch = max(per_epoch)
    same = {e: [o for o, j in zip(wanted, jobs) if o != e and j.fingerprint == jobs[i].fingerprint]
            for i, e in enumerate(wanted)}

    def summary(epoch: int) -> dict:
        r = per_epoch[epoch]
        return {"epoch": epoch, "auc": r["auc"], "precision_20": r["precision_20"], "success_50": r["success_50"]}

    result = {"epochs": {e: {**summary(e), "checkpoint_sha256": digests[e], "same_network_as": same[e]}
                         for e in wanted},
              "last": summary(last_epoch), "best": summary(best_epoch),
              "selected_by": "auc", "selection_note": SELECTION_NOTE, "test_set_selection": True}
    atomic_write_text(eval_run_dir / SWEEP_FILE, json.dumps(result, indent=2))
    atomic_write_text(eval_run_dir / SWEEP_TABLE, sweep_table(result))
    from ..visualisation.report_plots import epoch_sweep

    figure = epoch_sweep(result, eval_run_dir / SWEEP_FIGURE)
    return {**result, "evaluations": evaluations, "table": sweep_table(result), "figure": str(figure)}
