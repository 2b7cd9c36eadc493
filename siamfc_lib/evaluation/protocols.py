"""How each benchmark is scored and where its results are kept: one protocol per family.

A benchmark (``siamfc_lib.data.benchmarks``) names its protocol; the engine, the results store,
scoring, the sweep and the reports ask the protocol instead of knowing benchmarks:

* ``otb``: got10k's ``ExperimentOTB`` (OTB2015/2013/50, NfS, TColor128, DTB70 use it unchanged);
* ``uav``: ``ExperimentUAV123``, the same with NaN ground-truth rows not scored;
* ``lasot``: ``ExperimentLaSOT``, as ``uav`` plus the normalised precision AUC;
* ``got10k``: ``ExperimentGOT10k`` on val: AO, SR0.5, SR0.75, results in got10k's per-sequence
  layout (``results/<Tracker>/<seq>/<seq>_001.txt`` and ``<seq>_time.txt``);
* ``hidden``: GOT-10k test, whose boxes only the evaluation server has: the same layout, zipped
  for upload, no score here.
"""
from __future__ import annotations

from dataclasses import dataclass

OPE_COLUMNS = (("auc", "AUC"), ("precision_20", "prec@20"), ("success_50", "success (IoU > 0.5)"),
               ("norm_precision", "norm prec@0.2"), ("fps", "fps"))


@dataclass(frozen=True)
class Protocol:
    name: str
    layout: str                          # results store layout: "otb" (flat) | "got10k" (per sequence)
    scored: bool = True                  # False: the ground truth is hidden (an evaluation server scores)
    skip_nan_gt: bool = False            # frames whose ground truth has a NaN are not scored
    headline: str = "auc"                # what the sweep selects by and plots rank by
    columns: tuple[tuple[str, str], ...] = OPE_COLUMNS   # report keys shown in tables, with their headers
    source: str = "got10k's ExperimentOTB protocol"

    @property
    def ope(self) -> bool:
        """Success and precision curves (the OTB family of protocols), not AO."""
        return self.scored and self.headline == "auc"


PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (
    Protocol("otb", "otb"),
    Protocol("uav", "otb", skip_nan_gt=True, source="got10k's ExperimentUAV123 protocol"),
    Protocol("lasot", "otb", skip_nan_gt=True, source="got10k's ExperimentLaSOT protocol",
             columns=(("auc", "AUC"), ("precision_20", "prec@20"), ("norm_precision_auc", "norm prec AUC"),
                      ("success_50", "success (IoU > 0.5)"), ("fps", "fps"))),
    Protocol("got10k", "got10k", headline="ao", source="got10k's ExperimentGOT10k protocol",
             columns=(("ao", "AO"), ("sr_50", "SR0.5"), ("sr_75", "SR0.75"), ("fps", "fps"))),
    Protocol("hidden", "got10k", scored=False, headline="", columns=(("fps", "fps"),),
             source="the GOT-10k evaluation server only (its test boxes are hidden)"),
)}


# Every report key any protocol shows, with its header (tables that mix protocols, published rows).
HEADERS: dict[str, str] = {k: label for p in PROTOCOLS.values() for k, label in p.columns}


def protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise ValueError(f"unknown scoring protocol {name!r}; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
