"""Progress lines read in the work's unit (frames/s, s/sequence) and are not repeated under a bar."""
from __future__ import annotations

import itertools

from siamfc_lib import progress
from siamfc_lib.progress import rate_text, track


def test_rate_text_never_reads_zero_per_second():
    assert rate_text(300, 4.0, "frame") == "75.0 frames/s"
    assert rate_text(1, 8.0, "sequence") == "8.0 s/sequence"
    assert rate_text(0, 8.0, "frame") == "- frames/s"


def _fake_clock(monkeypatch, step_s: float) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(ticks) * step_s)


def test_log_lines_count_the_work_inside_each_item(monkeypatch):
    _fake_clock(monkeypatch, 10.0)     # every perf_counter call is 10 s later
    lines: list[str] = []
    sequences = [list(range(120)), list(range(80))]
    assert list(track(sequences, desc="OPE SiamFC", enabled=False, log_every_s=15, log=lines.append,
                      unit="sequence", size=len, size_unit="frame")) == sequences
    # start at 0 s; sequence 1 done at 10 s (no line yet), sequence 2 at 20 s: 200 frames in 20 s.
    assert lines == ["OPE SiamFC: 2/2 sequences (10.0 frames/s, 20 s elapsed)"]


def test_no_log_lines_under_a_bar(monkeypatch):
    _fake_clock(monkeypatch, 100.0)
    lines: list[str] = []
    assert list(track(range(3), desc="lmdb", enabled=True, log_every_s=1, log=lines.append, unit="crop")) == [0, 1, 2]
    assert lines == []
