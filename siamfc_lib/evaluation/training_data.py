"""What a checkpoint was trained on, and whether that follows GOT-10k's one-shot protocol.

GOT-10k's protocol (Huang et al., TPAMI 2019, and its leaderboard's rules): a tracker reported on
GOT-10k test is trained on GOT-10k's train split only, so test classes are unseen. A training
run records its ``data_path`` (``config.json``), whose manifest names the curation's sources
(``siamfc_lib.data.manifest.curation_sources``). A checkpoint trained on anything else (VID, or
VID and GOT-10k together) did not follow it, and 05 refuses to produce its GOT-10k test
submission as if it had, unless told to go on (``allow_off_protocol``); then every file says so.
An imported weights file records nothing: its status is unknown and said to be.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..data.manifest import curation_sources
from ..data.provenance import training_sources_label
from ..training.checkpoints import run_dir_of


class OffProtocolError(ValueError):
    """A GOT-10k test evaluation of a checkpoint that was not trained on GOT-10k train alone."""


def training_sources(checkpoint: str | Path | None) -> list[dict] | None:
    """The curation sources of the run ``checkpoint`` belongs to; None when not recorded."""
    run_dir = run_dir_of(checkpoint) if checkpoint else None
    try:
        data_path = json.loads((run_dir / "config.json").read_text())["data_path"]
        return curation_sources(data_path)
    except (TypeError, OSError, KeyError, ValueError):
        return None


def follows_got10k_protocol(sources: list[dict] | None) -> bool | None:
    """True: GOT-10k train only; False: anything else among the sources; None: not recorded."""
    if sources is None:
        return None
    return all(s.get("kind") == "got10k" and list(s.get("subsets", [])) == ["train"] for s in sources)


def got10k_protocol(checkpoint: str | Path | None) -> dict:
    """``{"followed": bool | None, "training_data": label, "note": why}`` for reports and eval_info.json."""
    sources = training_sources(checkpoint)
    followed = follows_got10k_protocol(sources)
    label = training_sources_label(sources) if sources is not None else "not recorded"
    note = {True: "trained on GOT-10k train only, as GOT-10k's one-shot protocol requires",
            False: f"trained on {label}: NOT GOT-10k's protocol (train on GOT-10k train only)",
            None: "training data not recorded (imported weights?): protocol unknown"}[followed]
    return {"followed": followed, "training_data": label, "note": note}


def require_got10k_protocol(checkpoint: str | Path | None, allow_off_protocol: bool) -> dict:
    """The protocol status; raises :class:`OffProtocolError` for a checkpoint known to break it,
    unless ``allow_off_protocol``."""
    status = got10k_protocol(checkpoint)
    if status["followed"] is False and not allow_off_protocol:
        raise OffProtocolError(
            f"refusing to make a GOT-10k test submission from {checkpoint}: it was trained on "
            f"{status['training_data']}. GOT-10k's one-shot protocol allows training on its train split only, so this result could not be "
            "reported as following it. Curate with 01's `source: got10k` and train on that; or set "
            "`allow_off_protocol: true` to evaluate anyway, and the report and the zip's name will say "
            "'off-protocol'.")
    return status
