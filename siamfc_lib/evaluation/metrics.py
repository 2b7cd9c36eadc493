"""One-pass evaluation metrics: got10k's OTB protocol, exactly (got10k 0.1.3, ``ExperimentOTB``).

* IoU on continuous boxes (no +1), clipped to [0, 1]; centre ``x + (w - 1) / 2``.
* Success curve: 21 thresholds ``linspace(0, 1, 21)``, a frame succeeds when ``iou > thr``;
  AUC is the curve's mean; success rate is the curve at index 10 (IoU > 0.5).
* Precision curve: 51 thresholds ``0..50`` px, a frame counts when ``error <= thr``;
  precision is the curve at 20 px.
* The first frame is set to the ground truth; results and GT are cut to the shorter length;
  no frame is excluded (NaN predictions fail every threshold, as in got10k).
* Sequences are weighted equally: overall curves are the mean of per-sequence curves.
* Normalised precision (not in got10k's OTB report): the centre error divided by the GT
  width and height (floored at 1 px, got10k's ``normalized_center_error``), 51 thresholds
  ``0..0.5`` as pysot/LaSOT, score at 0.20 (index 20).
* Speed: per sequence ``mean(1 / t)`` over frames with ``t > 0``; overall the mean over
  sequences that have times.

The other benchmarks' protocols, from got10k's code too (``siamfc_lib.evaluation.protocols``
says which benchmark uses which):

* UAV123 and LaSOT (``ExperimentUAV123``, ``ExperimentLaSOT``): as OTB, but frames whose ground
  truth has a NaN are not scored; LaSOT adds the normalised precision AUC, the mean of the curve
  over the 51 thresholds ``linspace(0, 0.5, 51)``.
* GOT-10k (``ExperimentGOT10k``): the first frame is not scored, nor frames with ``cover == 0``;
  IoU of boxes clipped to the image; AO is the mean IoU over every scored frame of every
  sequence pooled (not per sequence), SR0.5 / SR0.75 the fraction above 0.5 / 0.75, the success
  curve has 101 thresholds ``linspace(0, 1, 101)``; speed is ``mean(1 / t)`` over all frames pooled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = np.linspace(0, 1, 21)
CE_THRESHOLDS = np.arange(0, 51)
NORM_CE_THRESHOLDS = np.arange(0, 51) / 100.0
NORM_CE_AUC_THRESHOLDS = np.linspace(0, 0.5, 51)     # LaSOT's (got10k ExperimentLaSOT): not bit-equal to the above
AO_THRESHOLDS = np.linspace(0, 1, 101)               # GOT-10k's success curve
PRECISION_INDEX = 20
SUCCESS_INDEX = 21 // 2


def _rects(boxes) -> np.ndarray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def clip_to_image(rects, bound) -> np.ndarray:
    """got10k's ``rect_iou(..., bound=(W, H))`` clipping, on a copy: ``x`` into ``[0, W]``, then ``w``
    into ``[0, W - x]`` (likewise ``y``, ``h``). GOT-10k scores boxes clipped so."""
    r = _rects(rects).copy()
    r[:, 0] = np.clip(r[:, 0], 0, bound[0])
    r[:, 1] = np.clip(r[:, 1], 0, bound[1])
    r[:, 2] = np.clip(r[:, 2], 0, bound[0] - r[:, 0])
    r[:, 3] = np.clip(r[:, 3], 0, bound[1] - r[:, 1])
    return r


def rect_iou(rects1, rects2, bound=None) -> np.ndarray:
    """Continuous-coordinate IoU of ``x, y, w, h`` rows (got10k ``rect_iou``); ``bound``: ``(W, H)``,
    both boxes clipped to the image first (GOT-10k's protocol)."""
    a, b = _rects(rects1), _rects(rects2)
    if bound is not None:
        a, b = clip_to_image(a, bound), clip_to_image(b, bound)
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)


def centres(rects) -> np.ndarray:
    """OTB/got10k centre ``xy + (wh - 1) / 2`` (inclusive-pixel convention, 1-based)."""
    r = _rects(rects)
    return r[:, :2] + (r[:, 2:] - 1) / 2


def center_error(rects1, rects2) -> np.ndarray:
    return np.sqrt(np.sum((centres(rects1) - centres(rects2)) ** 2, axis=-1))


def normalized_center_error(pred, gt) -> np.ndarray:
    """Centre offset in units of the GT size (floored at 1 px), Euclidean norm."""
    size = np.maximum(_rects(gt)[:, 2:], 1.0)
    return np.sqrt(np.sum(((centres(pred) - centres(gt)) / size) ** 2, axis=-1))


@dataclass
class SequenceCurves:
    success: np.ndarray        # (21,)
    precision: np.ndarray      # (51,)
    norm_precision: np.ndarray  # (51,)
    frames: int
    norm_precision_auc_curve: np.ndarray | None = None   # (51,) over linspace(0, 0.5, 51): LaSOT's

    @property
    def auc(self) -> float:
        return float(np.mean(self.success))


def align(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    """Cut both to the shorter length and set the first prediction to the GT (got10k report)."""
    p, g = _rects(pred).copy(), _rects(gt)
    n = min(len(p), len(g))
    p, g = p[:n], g[:n]
    if n:
        p[0] = g[0]
    return p, g


def curves_from_errors(ious, errors, norm_errors=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame IoUs and centre errors -> success, precision (and normalised) curves."""
    ious = np.asarray(ious, dtype=np.float64)[:, None]
    errors = np.asarray(errors, dtype=np.float64)[:, None]
    success = np.mean(np.greater(ious, IOU_THRESHOLDS[None]), axis=0)
    precision = np.mean(np.less_equal(errors, CE_THRESHOLDS[None]), axis=0)
    if norm_errors is None:
        return success, precision, np.zeros(len(NORM_CE_THRESHOLDS))
    norm = np.asarray(norm_errors, dtype=np.float64)[:, None]
    return success, precision, np.mean(np.less_equal(norm, NORM_CE_THRESHOLDS[None]), axis=0)


def sequence_curves(pred, gt, skip_nan_gt: bool = False) -> SequenceCurves:
    """``skip_nan_gt``: frames whose ground truth has a NaN are not scored (got10k's UAV123 and LaSOT
    ``_calc_metrics``; the first frame is set to the ground truth before)."""
    p, g = align(pred, gt)
    if skip_nan_gt:
        keep = ~np.isnan(g).any(axis=1)
        p, g = p[keep], g[keep]
    if len(p) == 0:
        raise ValueError("no frames to evaluate")
    norm = normalized_center_error(p, g)
    s, c, n = curves_from_errors(rect_iou(p, g), center_error(p, g), norm)
    auc_curve = np.mean(np.less_equal(norm[:, None], NORM_CE_AUC_THRESHOLDS[None]), axis=0)
    return SequenceCurves(s, c, n, len(p), auc_curve)


def sequence_fps(times) -> float:
    """got10k speed: mean of per-frame fps over frames with a positive time; -1 without times."""
    t = np.asarray(times, dtype=np.float64).ravel()
    t = t[t > 0]
    return float(np.mean(1.0 / t)) if len(t) else -1.0


def mean_curves(curves: list[SequenceCurves]) -> SequenceCurves:
    """Every sequence weighted equally, whatever its length."""
    auc_curves = [c.norm_precision_auc_curve for c in curves]
    return SequenceCurves(np.mean([c.success for c in curves], axis=0),
                          np.mean([c.precision for c in curves], axis=0),
                          np.mean([c.norm_precision for c in curves], axis=0),
                          int(sum(c.frames for c in curves)),
                          None if any(a is None for a in auc_curves) else np.mean(auc_curves, axis=0))


def scores(c: SequenceCurves) -> dict[str, float]:
    out = {"auc": float(np.mean(c.success)), "precision_20": float(c.precision[PRECISION_INDEX]),
           "success_50": float(c.success[SUCCESS_INDEX]), "norm_precision": float(c.norm_precision[PRECISION_INDEX])}
    if c.norm_precision_auc_curve is not None:
        out["norm_precision_auc"] = float(np.mean(c.norm_precision_auc_curve))
    return out


def got10k_ious(pred, gt, cover, resolution) -> np.ndarray:
    """IoUs GOT-10k scores: frames 2.. with ``cover > 0``, boxes clipped to ``resolution`` (W, H)."""
    p, g = _rects(pred), _rects(gt)
    if p.shape != g.shape:
        raise ValueError(f"{len(p)} result rows for {len(g)} ground-truth rows: GOT-10k needs one per frame")
    ious = rect_iou(p[1:], g[1:], bound=resolution)
    return ious[np.asarray(cover)[1:] > 0]


def ao_scores(ious) -> dict[str, float | np.ndarray]:
    """AO, SR0.5, SR0.75 and the 101-threshold success curve of pooled IoUs (got10k ``_evaluate``)."""
    ious = np.asarray(ious, dtype=np.float64)
    if len(ious) == 0:
        raise ValueError("no scored frames (every frame after the first has cover 0)")
    return {"ao": float(np.mean(ious)), "sr_50": float(np.mean(ious > 0.5)), "sr_75": float(np.mean(ious > 0.75)),
            "success_curve": np.mean(np.greater(ious[:, None], AO_THRESHOLDS[None]), axis=0)}


def pooled_fps(times: list[np.ndarray]) -> float:
    """GOT-10k speed: ``mean(1 / t)`` over every frame of every sequence with ``t > 0``; -1 without."""
    t = np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in times]) if times else np.zeros(0)
    t = t[t > 0]
    return float(np.mean(1.0 / t)) if len(t) else -1.0
