"""``python -m siamfc_lib.training.run --config cfg.yaml``: train in this process.

The file holds TrainConfig fields (YAML or JSON, flat), plus optionally ``preset``
(paper | ascend, default paper) and ``progress``. Unknown keys are an error. Later a
torchrun launcher runs this same entry point once per rank.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import TrainConfig, load_params, preset
from .trainer import train


def load_train_config(path: str | Path, **overrides) -> tuple[TrainConfig, bool | None]:
    """(config, progress) from a params file: preset first, then the file's keys, then ``overrides``."""
    params = {**load_params(path), **overrides}
    name = params.pop("preset", "paper")
    progress = params.pop("progress", None)
    return preset(name, **params), progress


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.training.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="YAML or JSON file of TrainConfig fields")
    parser.add_argument("--resume", action="store_true", help="continue from run_dir/checkpoints/last.pth")
    args = parser.parse_args(argv)
    overrides = {"resume": True} if args.resume else {}
    cfg, progress = load_train_config(args.config, **overrides)
    summary = train(cfg, progress=progress)
    print(json.dumps(summary, indent=2), flush=True)
    return summary


if __name__ == "__main__":
    main()
    sys.exit(0)
