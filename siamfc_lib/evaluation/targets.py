"""Which benchmark a 05 run evaluates, where its data is, how it is scored and where results go.

``benchmark`` is one key of ``siamfc_lib.data.benchmarks.BENCHMARKS`` or a list; each benchmark
gets its own run folder: ``run_dir`` itself for ``otb2015`` (as 05 always wrote it) and
``run_dir/<benchmark>`` for every other, so one ``run_dir`` holds them all and 06 finds them.
``benchmark_root`` defaults to ``otb_root`` for the OTB versions and to the benchmark's usual
folder otherwise; with ``synthetic`` the embedded look-alike is written there when absent.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from ..config.data import SyntheticConfig
from ..config.tracking import EvalConfig
from ..data.benchmarks import OTB_FAMILY, Benchmark, benchmark, benchmark_label, open_benchmark
from .protocols import Protocol, protocol


@dataclass
class Target:
    spec: Benchmark
    root: Path
    protocol: Protocol
    dataset: Any
    label: str                # the data set's name in reports

    @property
    def key(self) -> str:
        return self.spec.key


def benchmark_run_dir(run_dir: str | Path, key: str) -> Path:
    return Path(run_dir) if key == "otb2015" else Path(run_dir) / key


def benchmark_list(cfg: EvalConfig) -> list[tuple[str, str | None]]:
    """``(benchmark, root)`` pairs; a list of roots must match the list of benchmarks."""
    keys = [cfg.benchmark] if isinstance(cfg.benchmark, str) else list(cfg.benchmark)
    if not keys:
        raise ValueError("benchmark is an empty list: name at least one")
    for key in keys:
        benchmark(key)                     # an unknown name fails before anything runs
    roots = cfg.benchmark_root if isinstance(cfg.benchmark_root, list) else [cfg.benchmark_root] * len(keys)
    if len(roots) != len(keys):
        raise ValueError(f"benchmark_root lists {len(roots)} folders for {len(keys)} benchmarks {keys}")
    if len(keys) > 1 and (cfg.sequences or cfg.viewer_sequence):
        raise ValueError("sequences and viewer_sequence name sequences of one benchmark: evaluate one benchmark "
                         "with them, or leave them None")
    return list(zip(keys, roots))


def per_benchmark(cfg: EvalConfig) -> list[EvalConfig]:
    """One single-benchmark configuration per benchmark, each with its own run folder."""
    return [replace(cfg, benchmark=key, benchmark_root=root, run_dir=str(benchmark_run_dir(cfg.run_dir, key)))
            for key, root in benchmark_list(cfg)]


def root_of(cfg: EvalConfig, spec: Benchmark, root: str | None) -> Path:
    return Path(root or (cfg.otb_root if spec.key in OTB_FAMILY else spec.default_root))


def open_target(cfg: EvalConfig, log: Callable[[str], None] = print) -> Target:
    """The one benchmark ``cfg`` names, its sequences opened (the look-alike written first with ``synthetic``)."""
    pairs = benchmark_list(cfg)
    if len(pairs) != 1:
        raise ValueError(f"run_evaluation evaluates one benchmark, not {len(pairs)}: evaluate_benchmarks takes a list")
    spec = benchmark(pairs[0][0])
    root = root_of(cfg, spec, pairs[0][1])
    if cfg.synthetic:
        from ..data.synthetic import ensure_look_alike

        ensure_look_alike(spec.look_alike, root, SyntheticConfig(), log)
    dataset = open_benchmark(spec.key, root, cfg.sequences, tiger1_init_omit=cfg.tiger1_init_omit)
    return Target(spec, root, protocol(spec.protocol), dataset, cfg.dataset_name or benchmark_label(spec.key, root))


def scoreless_settings(cfg: EvalConfig, target: Target, log: Callable[[str], None]) -> EvalConfig:
    """Hidden ground truth (GOT-10k test): only the evaluated network is tracked, since nothing here
    could score the untrained network, the sweep's epochs or the baselines."""
    if target.protocol.scored:
        return cfg
    dropped = [what for what, on in (("the untrained network", cfg.compare_untrained),
                                     ("the epoch sweep", bool(cfg.sweep_epochs)), ("baselines", bool(cfg.baselines)),
                                     ("the other backends", bool(cfg.compare_backends)))
               if on]
    if dropped:
        log(f"[eval] {target.label}: its boxes are hidden, so {', '.join(dropped)} would get no score: skipped")
    return replace(cfg, compare_untrained=False, sweep_epochs=None, baselines=[], compare_backends=[])
