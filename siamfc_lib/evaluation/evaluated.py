"""What scoring a tracker's results gives: its report and the curves behind it."""
from __future__ import annotations

from dataclasses import dataclass, field

from .metrics import SequenceCurves


@dataclass
class Evaluation:
    """A tracker's report plus the curves behind it (for plots and comparisons)."""

    report: dict
    curves: SequenceCurves
    sequence_curves: dict[str, SequenceCurves] = field(default_factory=dict)
    kind: str = "ope"          # ope: success and precision curves; ao: GOT-10k's; hidden: none

    def curves_json(self) -> dict:
        if self.kind == "hidden":
            return {}
        if self.kind == "ao":
            return {"success_curve": self.curves.success.tolist()}
        return {"success_curve": self.curves.success.tolist(), "precision_curve": self.curves.precision.tolist()}
