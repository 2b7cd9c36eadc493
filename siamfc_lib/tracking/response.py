"""Score-map post-processing shared by the tracker and the response viewer.

Upsampling is truly bicubic: ``F.interpolate(mode="bicubic", align_corners=False)``. With
``align_corners=False`` pixel centres sit at half-pixel offsets, the convention of
``cv2.resize(..., interpolation=cv2.INTER_CUBIC)`` used by the original SiamFC ports (both use
the a = -0.75 cubic kernel), so a 17x17 map becomes 272x272 with its centre at (272 - 1) / 2.
Peers passed ``cv2.INTER_CUBIC`` positionally as ``dst`` and silently got bilinear.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def scale_factors(scale_num: int, scale_step: float) -> np.ndarray:
    """``scale_step ** k`` for k symmetric around 0 (3 scales: 1/1.0375, 1, 1.0375)."""
    exponents = np.arange(scale_num, dtype=np.float64) - (scale_num - 1) / 2
    return scale_step ** exponents


def hann_window(size: int) -> np.ndarray:
    """2-D cosine window summing to 1 (the paper's normalisation)."""
    w = np.outer(np.hanning(size), np.hanning(size))
    return (w / w.sum()).astype(np.float32)


def upsample_bicubic(responses: torch.Tensor, up: int) -> torch.Tensor:
    """(S, 1, R, R) -> (S, R*up, R*up), bicubic, float32."""
    size = responses.shape[-1] * up
    out = F.interpolate(responses.float(), size=(size, size), mode="bicubic", align_corners=False)
    return out[:, 0]


def penalise_scales(peaks: np.ndarray, penalty: float) -> np.ndarray:
    """Multiply every non-centre scale's peak by ``penalty`` (discourages scale changes)."""
    out = np.asarray(peaks, dtype=np.float64).copy()
    centre = (len(out) - 1) // 2
    out[np.arange(len(out)) != centre] *= penalty
    return out


def apply_window(response: np.ndarray, window: np.ndarray, influence: float) -> np.ndarray:
    """Min-subtract, sum-normalise, then blend with the cosine window (paper's displacement prior)."""
    r = response - response.min()
    r = r / (r.sum() + 1e-16)
    return (1.0 - influence) * r + influence * window


def host_peak(up: np.ndarray, window: np.ndarray, penalty: float, influence: float
              ) -> tuple[int, np.ndarray, int, int]:
    """(S, U, U) upsampled maps -> ``(scale, windowed map, row, col)`` with NumPy, as the paper's code.

    The one host-side peak search, shared by the tracker and the batched evaluator so their
    boxes agree exactly.
    """
    peaks = penalise_scales(up.reshape(len(up), -1).max(axis=1), penalty)
    best = int(np.argmax(peaks))
    response = apply_window(up[best], window, influence)
    row, col = np.unravel_index(int(np.argmax(response)), response.shape)
    return best, response, int(row), int(col)


def damped_scale(chosen_factor: float, scale_lr: float) -> float:
    """Paper's scale damping: move ``scale_lr`` of the way from 1 to the chosen factor."""
    return (1.0 - scale_lr) + scale_lr * float(chosen_factor)


# --- the same steps as tensors, batched over sequences, so they run where the maps are -------

def scale_penalties(scale_num: int, penalty: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """(S,) multipliers: ``penalty`` for every non-centre scale, 1 for the centre one."""
    out = torch.full((scale_num,), float(penalty), dtype=torch.float32, device=device)
    out[(scale_num - 1) // 2] = 1.0
    return out


def locate_peaks(raw: torch.Tensor, window: torch.Tensor, penalties: torch.Tensor, up: int,
                 influence: float) -> torch.Tensor:
    """(B, S, 1, R, R) raw maps -> (B, 3) int64 ``[scale, row, col]`` of the windowed peak.

    Device-side twin of the tracker's host steps (upsample, penalise, pick the scale, window,
    argmax), so only 3 integers per sequence leave the device. Ties resolve to the first
    index, as ``np.argmax`` does.
    """
    b, s = raw.shape[:2]
    maps = upsample_bicubic(raw.reshape(b * s, 1, *raw.shape[-2:]), up)
    size = maps.shape[-1]
    maps = maps.reshape(b, s, size * size)
    best = (maps.amax(dim=2) * penalties).argmax(dim=1)
    chosen = maps.gather(1, best.view(b, 1, 1).expand(b, 1, size * size))[:, 0]
    flat = windowed(chosen, window.reshape(-1), influence).argmax(dim=1)
    return torch.stack([best, torch.div(flat, size, rounding_mode="floor"), flat % size], dim=1)


def windowed(responses: torch.Tensor, window: torch.Tensor, influence: float) -> torch.Tensor:
    """:func:`apply_window` over a batch: (B, ...) maps, ``window`` shaped like one map."""
    dims = tuple(range(1, responses.dim()))
    r = responses - responses.amin(dim=dims, keepdim=True)
    r = r / (r.sum(dim=dims, keepdim=True) + 1e-16)
    return (1.0 - influence) * r + influence * window
