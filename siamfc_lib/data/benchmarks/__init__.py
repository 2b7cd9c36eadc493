"""Every benchmark 05 evaluates on: one reader per on-disk layout, one table naming them all.

got10k's idea, one class per benchmark: a reader finds a benchmark's sequences in the folder its
publisher ships and gives them in one shape (:class:`~.sequence.BenchmarkSequence`, or the OTB
reader's own), so tracking, resuming, the sweep, baselines, scoring and the viewer are the same
code for all. What differs per benchmark is said here: its reader, the metric protocol that
scores it (``siamfc_lib.evaluation.protocols``), its usual folder and its title in reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

from ...paths import not_found
from ..provenance import dataset_label, is_embedded
from .dtb70 import DTB70Dataset
from .got10k import GOT10kDataset
from .lasot import LaSOTDataset
from .nfs import NfSDataset
from .otb import OTBSubset
from .sequence import BenchmarkFormatError, BenchmarkSequence, SequenceSet
from .tc128 import TColor128Dataset
from .uav123 import UAV123Dataset

__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkFormatError", "BenchmarkSequence", "SequenceSet", "benchmark",
           "open_benchmark", "benchmark_label", "OTB_FAMILY"]


@dataclass(frozen=True)
class Benchmark:
    key: str                 # the `benchmark` parameter's value
    title: str               # the data set's name in reports
    protocol: str            # how it is scored: otb | uav | lasot | got10k | hidden (evaluation.protocols)
    default_root: str        # where the project expects it, relative to the project root
    reader: Callable[..., Any]   # (root, sequences, **options) -> a data set of sequences
    look_alike: str          # the kind of embedded look-alike tree (siamfc_lib.data.synthetic)


def _otb(version: str):
    def read(root, sequences=None, tiger1_init_omit: bool = False):
        return OTBSubset(root, version, sequences, tiger1_init_omit=tiger1_init_omit)
    return read


BENCHMARKS: dict[str, Benchmark] = {b.key: b for b in (
    Benchmark("otb2015", "OTB2015", "otb", "dataset/OTB", _otb("otb2015"), "otb"),
    Benchmark("otb2013", "OTB2013", "otb", "dataset/OTB", _otb("otb2013"), "otb"),
    Benchmark("otb50", "OTB-50 (TB-50)", "otb", "dataset/OTB", _otb("otb50"), "otb"),
    Benchmark("got10k_val", "GOT-10k val", "got10k", "dataset/GOT-10k", partial(GOT10kDataset, subset="val"),
              "got10k"),
    Benchmark("got10k_test", "GOT-10k test", "hidden", "dataset/GOT-10k", partial(GOT10kDataset, subset="test"),
              "got10k"),
    Benchmark("lasot", "LaSOT test (Protocol II)", "lasot", "dataset/LaSOT", LaSOTDataset, "lasot"),
    Benchmark("uav123", "UAV123", "uav", "dataset/UAV123", partial(UAV123Dataset, version="UAV123"), "uav123"),
    Benchmark("uav20l", "UAV20L", "uav", "dataset/UAV123", partial(UAV123Dataset, version="UAV20L"), "uav123"),
    Benchmark("nfs30", "NfS (30 fps)", "otb", "dataset/NfS", partial(NfSDataset, fps=30), "nfs"),
    Benchmark("tc128", "TColor128", "otb", "dataset/Temple-color-128", TColor128Dataset, "tc128"),
    Benchmark("dtb70", "DTB70", "otb", "dataset/DTB70", DTB70Dataset, "dtb70"),
)}
OTB_FAMILY = ("otb2015", "otb2013", "otb50")


def benchmark(key: str) -> Benchmark:
    """The table's entry; an unknown key is an error listing the known ones."""
    if key not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {key!r}; choose from {', '.join(BENCHMARKS)}")
    return BENCHMARKS[key]


def open_benchmark(key: str, root: str | Path, sequences: Sequence[str] | None = None, **options) -> Any:
    """The sequences of benchmark ``key`` under ``root`` (only those named in ``sequences``).

    ``options`` go to readers that take them (OTB: ``tiger1_init_omit``) and are ignored by the rest.
    """
    spec = benchmark(key)
    root = Path(root)
    if not root.is_dir():
        raise not_found(f"{spec.title} root folder", root, "otb" if key in OTB_FAMILY else "benchmark")
    return spec.reader(root, sequences=sequences, **(options if key in OTB_FAMILY else {}))


def benchmark_label(key: str, root: str | Path) -> str:
    """The data set a report names: the benchmark's title, or the embedded look-alike's, so that
    synthetic numbers are never passed off as the benchmark's."""
    if key == "otb2015":
        return dataset_label(root)
    title = benchmark(key).title
    return f"{title}, embedded look-alike (synthetic)" if is_embedded(root) else title
