"""``python -m siamfc_lib.bench demo_quality``: the demo's tracking quality over several seeds.

Why: the demo trains one seed in a few CPU minutes; whether a change to its data, schedule
or speed really pays shows only over several generator/training seeds. For seed index k the
embedded VID set is generated with ``seed + k``, training uses ``train seed + k``, and the
trained network is scored (AUC, precision at 20 px) on:

- ``validation``: an OTB-format set generated with another seed (``validation_seed + k``) and
  more sequences; choose settings on this one;
- ``embedded``: the demo's own OTB-format set (the figure the demo reports); score it once.

CSRT and KCF run on the same sets as the reference a learned tracker has to beat. Training
settings come from ``params/demo/03_train_1p.yaml`` (the recipe it names, its device and workers)
plus ``--set key=value`` overrides.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from ..config import flat_overrides, load_params
from ..config.data import OTB_SEQUENCES_ALL, SyntheticConfig
from ..notebook_params import apply_recipe
from ..paths import project_root

VALIDATION_SEED = 7001
VALIDATION_SEQUENCES = OTB_SEQUENCES_ALL + tuple(f"Synth{i:02d}" for i in range(5, 17))
# 03 parameters of the demo's file that these runs set themselves: where they read and write, and logging.
# Everything else (the recipe and the file's device and workers) is taken as it is.
NOT_RECIPE = ("data_path", "lmdb_path", "run_dir", "resume", "seed", "log_every", "progress", "recipe")


def _key_values(pairs: list[str]) -> dict:
    """``["lr=0.06", "width=0.25"]`` -> ``{"lr": 0.06, "width": 0.25}`` (values read as YAML)."""
    return {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in pairs)}


def demo_train_params() -> dict:
    params = load_params(project_root() / "params" / "demo" / "03_train_1p.yaml")
    params = apply_recipe(params, explicit=set(params))
    return {k: v for k, v in params.items() if k not in NOT_RECIPE} | {"preset": params.get("preset", "paper")}


def _score(otb_root: Path, checkpoint: str, run_dir: Path, baselines: list[str], untrained: bool) -> dict:
    """Score on one OTB-format set; ``run_dir`` is shared by runs of one seed, so the baselines are
    tracked once (results of another network are retracked: the engine keys them by weights)."""
    from ..evaluation.evaluate import run_evaluation
    from ..evaluation.networks import UNTRAINED_SUFFIX

    outcome = run_evaluation(dict(otb_root=str(otb_root), checkpoint=checkpoint, run_dir=str(run_dir),
                                  baselines=baselines, compare_untrained=untrained, resume=True),
                             log=lambda _m: None)
    out = {}
    for name, report in outcome.reports.items():
        key = "untrained" if name.endswith(UNTRAINED_SUFFIX) else name.lower()
        out[key] = {"auc": round(report["auc"], 4), "precision": round(report["precision_20"], 4)}
    return out


def run_seed(k: int, args, work: Path) -> dict:
    from ..config import CurateConfig, build, preset
    from ..data.curate import curate
    from ..data.synthetic import ensure_embedded_datasets
    from ..training import train

    data_cfg = SyntheticConfig.preset(args.size, seed=SyntheticConfig().seed + k, **args.synthetic)
    data_tag = "-".join(f"{key}={value}" for key, value in sorted(args.synthetic.items())).replace("/", "_")
    seed_dir = work / (f"seed{k}" + (f"-{data_tag}" if data_tag else ""))
    shutil.rmtree(seed_dir / "train", ignore_errors=True)
    t0 = time.perf_counter()
    ensure_embedded_datasets(seed_dir / "ILSVRC2015", seed_dir / "OTB" if "embedded" in args.sets else None,
                             data_cfg, log=lambda _m: None)
    curate(build(CurateConfig, dict(vid_root=str(seed_dir / "ILSVRC2015"), data_path=str(seed_dir / "crops"),
                                    workers=None)), progress=False, log=lambda _m: None)
    t_data = time.perf_counter() - t0
    params = flat_overrides(demo_train_params() | args.train)
    name = params.pop("preset")
    cfg = preset(name, **params, data_path=str(seed_dir / "crops"), lmdb_path="", run_dir=str(seed_dir / "train"),
                 seed=args.train_seed + k)
    t1 = time.perf_counter()
    summary = train(cfg, progress=False, echo=False)
    t_train = time.perf_counter() - t1
    row = {"k": k, "generator_seed": data_cfg.seed, "train_seed": cfg.seed, "data_s": round(t_data, 1),
           "train_s": round(t_train, 1), "pairs_per_s": summary.get("pairs_per_s")}
    for set_name in args.sets:
        if set_name == "validation":
            otb = work / f"validation{k}"
            ensure_embedded_datasets(None, otb, SyntheticConfig.preset(
                args.size, seed=args.validation_seed + k, otb_sequences=args.validation_sequences), log=lambda _m: None)
        else:
            otb = seed_dir / "OTB"
        # one run folder per data set: the embedded set differs with the generator's settings (05 refuses a
        # run folder that holds another set's results, as same-named sequences would be taken for finished)
        run_dir = seed_dir / "eval_embedded" if set_name == "embedded" else work / f"eval_{set_name}{k}"
        row[set_name] = _score(otb, str(seed_dir / "train"), run_dir, args.baselines, args.untrained)
    return row


def _summarise(rows: list[dict], sets: list[str]) -> dict:
    out = {}
    for set_name in sets:
        trackers = sorted({t for r in rows for t in r.get(set_name, {})})
        out[set_name] = {}
        for t in trackers:
            for metric in ("auc", "precision"):
                values = [r[set_name][t][metric] for r in rows if t in r.get(set_name, {})]
                out[set_name][f"{t}_{metric}"] = {
                    "mean": round(statistics.fmean(values), 4),
                    "min": min(values), "max": max(values),
                    "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.bench demo_quality")
    parser.add_argument("--seeds", default="0,1,2", help="comma list of seed indices k")
    parser.add_argument("--sets", default="validation", help="comma list of validation,embedded")
    parser.add_argument("--baselines", default="csrt,kcf")
    parser.add_argument("--untrained", action="store_true", help="also score the untrained network")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="training override (03_train_1p names), repeatable")
    parser.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                        help="embedded-VID generator override (SyntheticConfig names), repeatable")
    parser.add_argument("--size", default="demo", help="synthetic preset of every generated set (smoke: tests)")
    parser.add_argument("--validation-sequences", default=",".join(VALIDATION_SEQUENCES),
                        help="comma list of the held-out set's sequence names (real OTB names get their quirks)")
    parser.add_argument("--train-seed", type=int, default=1234)
    parser.add_argument("--validation-seed", type=int, default=VALIDATION_SEED)
    parser.add_argument("--work", default=None, help="keep the data and runs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    args.train, args.synthetic = _key_values(args.set), _key_values(args.data)
    args.sets = [s for s in args.sets.split(",") if s]
    args.validation_sequences = tuple(s for s in args.validation_sequences.split(",") if s)
    args.baselines = [b for b in args.baselines.split(",") if b]
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="siamfc-quality-") as tmp:
        work = Path(args.work or tmp)
        for k in seeds:
            rows.append(run_seed(k, args, work))
            print(json.dumps(rows[-1]), flush=True)
    return {"bench": "demo_quality", "size": args.size, "train_overrides": args.train, "data_overrides": args.synthetic,
            "validation_seed": args.validation_seed, "rows": rows, "summary": _summarise(rows, args.sets)}
