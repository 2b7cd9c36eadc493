"""``python -m siamfc_lib.bench demo_record outputs/demo``: what one ``make demo`` run measured, as JSON.

The demo's figures hold for one machine only: the trained weights depend on the CPU type and on
torch's thread count (the summation order changes with them), and the minutes on the load.
This collects, from the run's own files, the machine (CPU, cores, threads, torch), each
notebook's wall time, the training throughput and every evaluated tracker's AUC and precision,
so ``docs/`` can quote a run together with where it ran (``docs/results/``).
"""
from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path


def record(out: str | Path) -> dict:
    import torch

    from ..cores import cpu_model, usable_cores

    out = Path(out)
    pipeline = json.loads((out / "pipeline.json").read_text())
    train = json.loads((out / "train_1p" / "summary.json").read_text())
    reports = json.loads((out / "eval" / "reports.json").read_text())
    return {
        "machine": {"cpu": cpu_model(), "cores": usable_cores(), "torch": torch.__version__,
                    "training_device": train.get("device_name"), "python": platform.python_version()},
        "profile": pipeline.get("profile"),
        "notebook_seconds": {n["notebook"]: n["seconds"] for n in pipeline["notebooks"]},
        "notebooks_seconds_total": pipeline.get("seconds"),
        "training": {k: train.get(k) for k in ("pairs_per_s", "seconds", "epochs", "width", "seed")},
        "trackers": {name: {"auc": r["auc"], "precision_20": r["precision_20"], "dataset": r["dataset"]}
                     for name, r in reports.items()},
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench demo_record", description=__doc__)
    parser.add_argument("out", nargs="?", default="outputs/demo", help="a make demo output folder")
    return record(parser.parse_args(argv).out)
