"""How far another backend's run of the checkpoint is from PyTorch's: boxes and headline score.

The export is checked where it matters to a user: on the boxes a whole evaluation produces, frame
by frame, and on the benchmark's headline number (docs/deploy.md states the tolerances: 0.5 px
and 0.001 AUC).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .networks import backend_tracker
from .results import read_boxes, result_path

BOX_TOLERANCE_PX = 0.5
SCORE_TOLERANCE = 0.001


def backend_parity(run_dir: str | Path, reference: str, other: str, sequences: Sequence[str],
                   reports: dict[str, dict], headline: str, layout: str = "otb") -> dict:
    """``max_box_diff_px`` over every frame of ``sequences``, the headline's difference, and whether
    both are within the tolerances."""
    worst = 0.0
    for name in sequences:
        a = read_boxes(result_path(run_dir, reference, name, layout))
        b = read_boxes(result_path(run_dir, other, name, layout))
        if a.shape != b.shape:
            raise ValueError(f"{other} has {len(b)} boxes for {name}, {reference} {len(a)}")
        finite = np.isfinite(a) & np.isfinite(b)
        worst = max(worst, float(np.abs(a - b)[finite].max(initial=0.0)))
    diff = abs(reports[reference][headline] - reports[other][headline])
    return {"reference": reference, "other": other, "max_box_diff_px": worst, "headline": headline,
            "headline_diff": diff, "within_tolerance": worst <= BOX_TOLERANCE_PX and diff <= SCORE_TOLERANCE}


def outcome_parity(outcome, backend: str) -> dict:
    """:func:`backend_parity` of 05's outcome: its network against the same checkpoint run by ``backend``."""
    other = backend_tracker(outcome.primary, backend)
    return backend_parity(outcome.run_dir, outcome.primary, other, outcome.dataset.names, outcome.reports,
                          outcome.protocol.headline, outcome.protocol.layout)


def parity_text(parity: dict) -> str:
    verdict = "within" if parity["within_tolerance"] else "OUTSIDE"
    return (f"{parity['other']} against {parity['reference']}: boxes differ by at most "
            f"{parity['max_box_diff_px']:.3f} px, {parity['headline']} by {parity['headline_diff']:.4f} "
            f"({verdict} the tolerance of {BOX_TOLERANCE_PX} px and {SCORE_TOLERANCE})")
