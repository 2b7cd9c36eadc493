"""Metrics equal got10k's OTB protocol (got10k 0.1.3 as the oracle) and the report has the report keys."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from got10k.utils import metrics as g10k

from siamfc_lib.evaluation import metrics as m
from siamfc_lib.evaluation.results import result_path, times_path
from siamfc_lib.evaluation.scoring import REPORT_KEYS, evaluate_tracker, write_reports


def random_boxes(rng, n, degenerate=True):
    b = np.column_stack([rng.uniform(-20, 200, n), rng.uniform(-20, 200, n), rng.uniform(1, 80, n), rng.uniform(1, 80, n)])
    if degenerate:
        b[::7, 2] = 0.0
        b[::11, 3] = -5.0
        b[::13] = b[::13].round()
    return b


def got10k_curves(pred, gt):
    """Independent oracle: got10k's per-frame functions, its thresholds, got10k's report steps."""
    pred = pred.copy()
    pred[0] = gt[0]
    try:
        from got10k.experiments.otb import ExperimentOTB
        return ExperimentOTB._calc_curves(SimpleNamespace(nbins_iou=21, nbins_ce=51),
                                          g10k.rect_iou(pred, gt), g10k.center_error(pred, gt))
    except ImportError:  # got10k.experiments needs `six`; compute its curves from its definitions
        ious = g10k.rect_iou(pred, gt)[:, None]
        ces = g10k.center_error(pred, gt)[:, None]
        return (np.mean(ious > np.linspace(0, 1, 21)[None], axis=0),
                np.mean(ces <= np.arange(0, 51)[None], axis=0))


@pytest.mark.parametrize("seed", range(5))
def test_iou_and_centre_error_match_got10k(seed):
    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, 200), random_boxes(rng, 200)
    b[:20] = a[:20] + rng.normal(0, 2, (20, 4))
    np.testing.assert_allclose(m.rect_iou(a, b), g10k.rect_iou(a.copy(), b.copy()), atol=1e-12)
    np.testing.assert_allclose(m.center_error(a, b), g10k.center_error(a, b), atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_curves_match_got10k(seed):
    rng = np.random.default_rng(seed)
    gt = random_boxes(rng, 120, degenerate=False)
    pred = gt + rng.normal(0, 8, gt.shape)
    pred[5] = [0, 0, 0, 0]
    succ, prec = got10k_curves(pred, gt)
    c = m.sequence_curves(pred, gt)
    np.testing.assert_allclose(c.success, succ)
    np.testing.assert_allclose(c.precision, prec)
    assert c.auc == pytest.approx(np.mean(succ))


def test_hand_computed_protocol_details():
    gt = np.array([[1, 1, 10, 10]] * 4, dtype=float)
    pred = np.array([[50, 50, 5, 5],          # frame 1 replaced by GT: counted as perfect
                     [1, 1, 10, 10],          # IoU 1.0 -> fails only thr 1.0 (strict >)
                     [6, 1, 10, 10],          # IoU 50/150 = 1/3, centre error 5
                     [21, 1, 10, 10]])        # touching: IoU 0, centre error 20 -> counts at 20 px (<=)
    c = m.sequence_curves(pred, gt)
    assert c.success[-1] == 0.0 and c.success[0] == pytest.approx(0.75)   # IoU 0 fails thr 0
    assert c.success[10] == pytest.approx(0.5)
    assert c.precision[20] == 1.0 and c.precision[19] == pytest.approx(0.75) and c.precision[4] == 0.5
    assert m.scores(c)["auc"] == pytest.approx(np.mean(c.success))
    # normalised precision: error / GT size (10 px) <= 0.20
    assert c.norm_precision[20] == pytest.approx(0.5)


def test_lengths_are_cut_to_the_shorter_and_nan_fails():
    gt = np.array([[1, 1, 10, 10]] * 3, dtype=float)
    pred = np.array([[1, 1, 10, 10], [np.nan] * 4, [1, 1, 10, 10], [1, 1, 10, 10]])
    c = m.sequence_curves(pred, gt)
    assert c.frames == 3 and c.success[0] == pytest.approx(2 / 3) and c.precision[50] == pytest.approx(2 / 3)


def test_fps_is_mean_of_per_frame_rates_ignoring_zero_times():
    assert m.sequence_fps([0.5, 0.25, 0.0]) == pytest.approx((2 + 4) / 2)
    assert m.sequence_fps([]) == -1.0


def _write_result(run_dir, tracker, name, boxes, times):
    p = result_path(run_dir, tracker, name)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(p, boxes, fmt="%.3f", delimiter=",")
    t = times_path(run_dir, tracker, name)
    t.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(t, times, fmt="%.8f")


def test_report_weights_sequences_equally_and_has_exactly_the_spec_keys(tmp_path):
    rng = np.random.default_rng(0)
    seqs = []
    for name, n, attrs in (("Short", 10, ("SV",)), ("Long", 200, ("SV", "OCC"))):
        gt = random_boxes(rng, n, degenerate=False)
        pred = gt + rng.normal(0, 6, gt.shape)
        _write_result(tmp_path, "T", name, pred, np.full(n, 0.01))
        seqs.append(SimpleNamespace(name=name, gt=gt, attributes=attrs, pred=pred))
    ev = evaluate_tracker(tmp_path, "T", seqs, "OTB-test")
    r = ev.report
    assert tuple(r) == REPORT_KEYS
    per = [got10k_curves(np.loadtxt(result_path(tmp_path, "T", s.name), delimiter=","), s.gt) for s in seqs]
    assert r["auc"] == pytest.approx(np.mean([np.mean(sc) for sc, _ in per]), abs=1e-6)
    assert r["precision_20"] == pytest.approx(np.mean([pc[20] for _, pc in per]), abs=1e-6)
    assert r["success_50"] == pytest.approx(np.mean([sc[10] for sc, _ in per]), abs=1e-6)
    assert r["sequences"] == 2 and r["frames"] == 210 and r["fps"] == pytest.approx(100.0)
    assert set(r["per_sequence"]["Short"]) == {"auc", "precision_20", "success_50", "fps", "frames"}
    assert r["per_attribute"]["SV"]["sequences"] == 2 and r["per_attribute"]["OCC"]["sequences"] == 1
    assert r["per_attribute"]["OCC"]["auc"] == r["per_sequence"]["Long"]["auc"]
    write_reports(tmp_path, {"T": ev}, "T")
    assert json.loads((tmp_path / "report.json").read_text()) == r
    assert list(json.loads((tmp_path / "reports.json").read_text())) == ["T"]
