"""The GOT-10k test submission: the zip the evaluation server takes, and a check before uploading.

The server's layout (got-10k.aitestunion.com's submission instructions; got10k's
``ExperimentGOT10k.report(subset='test')`` zips exactly this, and pytracking's
``pack_got10k_results`` writes the same): at the zip's root one folder per test sequence, named
as the sequence, holding ``<seq>_001.txt`` (one ``x,y,w,h`` row per frame, comma-separated; a
non-deterministic tracker adds ``_002`` and ``_003``) and ``<seq>_time.txt`` (one row per frame,
seconds, one column per repetition). Nothing else: a stray file, a missing sequence or a row
count that differs from the frames makes the server reject the upload, often without saying
why, so :func:`validate_submission` checks all of it against the test split on disk first.
"""
from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path
from typing import Iterable

import numpy as np

from ..io_utils import atomic_open
from .results import result_path, times_path

ZIP_DATE = (1980, 1, 1, 0, 0, 0)        # fixed timestamps: the same results give the same bytes
FIRST_BOX_TOLERANCE = 0.5               # px: frame 1's box is the box the tracker was given


class SubmissionError(ValueError):
    """A submission the server would reject; the message lists every problem found."""


def submission_path(run_dir: str | Path, tracker: str) -> Path:
    return Path(run_dir) / "submission" / f"{tracker}_GOT-10k_test.zip"


def write_submission(run_dir: str | Path, tracker: str, sequence_names: Iterable[str],
                     out: str | Path | None = None) -> Path:
    """Zip ``tracker``'s results of the test sequences in the server's layout (atomically)."""
    out = Path(out) if out else submission_path(run_dir, tracker)
    with atomic_open(out) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sequence_names:
            z.writestr(zipfile.ZipInfo(f"{name}/", ZIP_DATE), b"")
            for path in (result_path(run_dir, tracker, name, "got10k"), times_path(run_dir, tracker, name, "got10k")):
                if not path.exists():
                    raise FileNotFoundError(f"no {path.name} for {name}: {path} (track the test split first)")
                info = zipfile.ZipInfo(f"{name}/{path.name}", ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, path.read_bytes())
    return out


def _rows(text: str, what: str, problems: list[str]) -> list[list[float]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            problems.append(f"{what}:{number}: empty line")
            continue
        try:
            rows.append([float(v) for v in line.split(",")])
        except ValueError:
            problems.append(f"{what}:{number}: not comma-separated numbers: {line!r}")
    return rows


def _check_result(text: str, what: str, frames: int, first_box, problems: list[str]) -> None:
    rows = _rows(text, what, problems)
    if len(rows) != frames:
        problems.append(f"{what}: {len(rows)} rows for {frames} frames")
    bad = [i + 1 for i, r in enumerate(rows) if len(r) != 4 or not all(math.isfinite(v) for v in r)]
    if bad:
        problems.append(f"{what}: rows {bad[:5]} are not 4 finite numbers x,y,w,h")
    elif rows and np.max(np.abs(np.asarray(rows[0]) - np.asarray(first_box))) > FIRST_BOX_TOLERANCE:
        problems.append(f"{what}: the first row {rows[0]} is not the given first box {list(first_box)}")


def _check_times(text: str, what: str, frames: int, runs: int, problems: list[str]) -> None:
    rows = _rows(text, what, problems)
    if len(rows) != frames:
        problems.append(f"{what}: {len(rows)} rows for {frames} frames")
    if any(len(r) != runs or not all(math.isfinite(v) and v >= 0 for v in r) for r in rows):
        problems.append(f"{what}: every row must hold {runs} non-negative time(s) in seconds (one per repetition)")


def _check_sequence(z: zipfile.ZipFile, seq, files: set[str], problems: list[str]) -> None:
    name = seq.name
    runs = sorted(f for f in files if re.fullmatch(rf"{re.escape(name)}_00[1-3]\.txt", f))
    if f"{name}_001.txt" not in runs:
        problems.append(f"{name}/{name}_001.txt is missing")
    if f"{name}_time.txt" not in files:
        problems.append(f"{name}/{name}_time.txt is missing")
    for extra in sorted(files - set(runs) - {f"{name}_time.txt"}):
        problems.append(f"{name}/{extra}: not part of the server's layout")
    for run in runs:
        _check_result(z.read(f"{name}/{run}").decode("utf-8", "replace"), f"{name}/{run}", len(seq), seq.gt[0],
                      problems)
    if f"{name}_time.txt" in files:
        _check_times(z.read(f"{name}/{name}_time.txt").decode("utf-8", "replace"), f"{name}/{name}_time.txt",
                     len(seq), max(1, len(runs)), problems)


def validate_submission(zip_path: str | Path, sequences) -> list[str]:
    """Every problem the server would reject ``zip_path`` for, given the test split's ``sequences``
    (a GOT-10k test data set: names, frame counts, first boxes); an empty list means it is fine."""
    problems: list[str] = []
    try:
        z = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{zip_path}: not a readable zip ({exc})"]
    with z:
        by_folder: dict[str, set[str]] = {}
        for entry in z.namelist():
            parts = entry.rstrip("/").split("/")
            if len(parts) == 1 and entry.endswith("/"):
                by_folder.setdefault(parts[0], set())
            elif len(parts) == 2 and not entry.endswith("/"):
                by_folder.setdefault(parts[0], set()).add(parts[1])
            else:
                problems.append(f"{entry}: the zip must hold <sequence>/<file> entries only")
        names = set(sequences.names)
        problems += [f"{folder}/: not a test sequence" for folder in sorted(set(by_folder) - names)]
        problems += [f"{name}: missing from the zip" for name in sequences.names if name not in by_folder]
        for seq in sequences:
            if seq.name in by_folder:
                _check_sequence(z, seq, by_folder[seq.name], problems)
    return problems


def check_submission(zip_path: str | Path, sequences) -> None:
    """:func:`validate_submission`, raising :class:`SubmissionError` that lists the problems."""
    problems = validate_submission(zip_path, sequences)
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise SubmissionError(f"{zip_path} would be rejected by the GOT-10k server:\n  {shown}")
