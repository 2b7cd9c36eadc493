"""Pair augmentation: stretch, centre/translated crop, grayscale, colour jitter (RGB uint8).

Each crop (stretch + crop + translation) is ONE ``cv2.warpAffine`` from the curated
255x255 crop, whose centre is the target centre and whose scale makes the exemplar region
span ``exemplar_size`` pixels. So the exemplar is the stretched centre 127 px, and the
instance is the stretched centre 239 px moved by an integer shift of at most
``max_translate`` px per axis: the target sits within that bound of the instance centre.
The shift is returned with the crops, so the loss can centre a pair's positive labels on
where its target really is (``labels_follow_shift``) instead of on the map centre.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentParams:
    exemplar_size: int = 127
    instance_size: int = 239
    stretch: float = 0.05
    max_translate: int = 4
    gray_prob: float = 0.25
    color_jitter: float = 0.0      # std of a per-channel gain shared by both crops (0: off)


def crop_affine(src_size: int, out_size: int, scale_xy: tuple[float, float],
                shift_xy: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """2x3 matrix: stretch about the source centre, then crop ``out_size`` moved by ``shift``.

    The source centre lands at ``(out - 1) / 2 - shift`` in the output.
    """
    sx, sy = scale_xy
    c_src = (src_size - 1) / 2
    c_out = (out_size - 1) / 2
    return np.array([[sx, 0.0, c_out - shift_xy[0] - sx * c_src],
                     [0.0, sy, c_out - shift_xy[1] - sy * c_src]], dtype=np.float64)


def warp(image: np.ndarray, matrix: np.ndarray, out_size: int) -> np.ndarray:
    """Apply ``matrix``; pixels from outside the crop take its mean colour (as curation pads)."""
    border = cv2.mean(image)[:3]
    return cv2.warpAffine(image, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def _stretch(gen: np.random.Generator, amount: float) -> tuple[float, float]:
    s = 1.0 + gen.uniform(-amount, amount, size=2) if amount > 0 else np.ones(2)
    return float(s[0]), float(s[1])


class PairAffines(NamedTuple):
    exemplar: np.ndarray           # 2x3 matrix
    instance: np.ndarray           # 2x3 matrix
    shift: tuple[int, int]         # instance shift in px: the target centre sits at centre - shift


def sample_affines(gen: np.random.Generator, params: AugmentParams, src_size: int = 255) -> PairAffines:
    """The warps of one pair."""
    mz = crop_affine(src_size, params.exemplar_size, _stretch(gen, params.stretch))
    t = params.max_translate
    shift = tuple(int(v) for v in gen.integers(-t, t + 1, size=2)) if t > 0 else (0, 0)
    mx = crop_affine(src_size, params.instance_size, _stretch(gen, params.stretch), shift)
    return PairAffines(mz, mx, shift)


def to_gray_rgb(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def augment_pair(z_src: np.ndarray, x_src: np.ndarray, gen: np.random.Generator,
                 params: AugmentParams) -> tuple[np.ndarray, np.ndarray, PairAffines]:
    """Exemplar ``(127,127,3)`` and instance ``(239,239,3)`` uint8 RGB crops of one pair, and
    the warps that made them (``shift``: where the target went)."""
    affines = sample_affines(gen, params, z_src.shape[0])
    mz, mx = affines.exemplar, affines.instance
    z = warp(z_src, mz, params.exemplar_size)
    x = warp(x_src, mx, params.instance_size)
    if params.gray_prob > 0 and gen.random() < params.gray_prob:
        z, x = to_gray_rgb(z), to_gray_rgb(x)
    if params.color_jitter > 0:
        gain = tuple(float(g) for g in np.clip(1.0 + gen.normal(0.0, params.color_jitter, 3), 0.0, 2.0)) + (1.0,)
        z, x = cv2.multiply(z, gain, dtype=cv2.CV_8U), cv2.multiply(x, gain, dtype=cv2.CV_8U)
    return z, x, affines
