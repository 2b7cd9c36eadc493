"""A run's human log (train.log + stdout) and its machine log (metrics.csv)."""
from __future__ import annotations

import csv
import logging
import math
import sys
from pathlib import Path

# overflow_skipped: fp16 steps skipped by the GradScaler so far in this session (empty without fp16)
METRIC_FIELDS = ("kind", "epoch", "step", "loss", "val_loss", "lr", "pairs_per_s", "seconds", "overflow_skipped")


def open_logger(run_dir: Path, rank: int = 0, echo: bool = True) -> logging.Logger:
    """``train.log`` for rank 0 (``train_rank{r}.log`` otherwise), echoed to stdout."""
    name = "train.log" if rank == 0 else f"train_rank{rank}.log"
    logger = logging.getLogger(f"siamfc.train.{run_dir.resolve()}.{rank}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    close_logger(logger)
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / name, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    logger.addHandler(handler)
    if echo:
        out = logging.StreamHandler(sys.stdout)
        out.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(out)
    return logger


def close_logger(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class MetricsCsv:
    """Append-only CSV; on resume, rows after the resumed epoch are dropped first."""

    def __init__(self, path: Path, keep_through_epoch: int | None = None):
        self.path = path
        rows = read_metrics(path) if keep_through_epoch is not None and path.exists() else []
        rows = [r for r in rows if int(r["epoch"]) <= (keep_through_epoch or 0)]
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, METRIC_FIELDS)
            writer.writeheader()
            writer.writerows({k: r.get(k, "") for k in METRIC_FIELDS} for r in rows)

    def write(self, **row) -> None:
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, METRIC_FIELDS).writerow({k: _fmt(row.get(k)) for k in METRIC_FIELDS})


def read_metrics(path: str | Path) -> list[dict[str, str]]:
    """Rows of a metrics.csv (a run_dir means its metrics.csv)."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.csv"
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
