"""The tiny curated dataset and training config that the trainer tests (CPU and NPU stand-in) share."""
from __future__ import annotations

from pathlib import Path

from siamfc_lib.config import TrainConfig, preset
from siamfc_lib.training.synthetic_crops import write_synthetic_curation


def tiny_curation(root: Path) -> Path:
    """4 videos x 6 frames, curated and packed into ``root/VID.lmdb``; returns the curated folder."""
    write_synthetic_curation(root / "VID", videos=4, frames=6, seed=5, lmdb_path=root / "VID.lmdb")
    return root / "VID"


def tiny_train_cfg(data: Path, run_dir: Path, preset_name: str, **overrides) -> TrainConfig:
    """A width-0.125, batch-2 run on :func:`tiny_curation` with a quarter of the videos held out."""
    base = dict(data_path=str(data), lmdb_path=None, width=0.125, batch_size=2, val_fraction=0.25, workers=0,
                run_dir=str(run_dir), warmup_steps=1)
    return preset(preset_name, **{**base, **overrides})
