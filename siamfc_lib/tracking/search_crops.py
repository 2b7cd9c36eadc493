"""The scale pyramid of search crops, cut two ways with the same geometry.

* ``warp``: one ``cv2.warpAffine`` per scale on the host (what :mod:`siamfc_lib.data.crops`
  does); fastest on CPU, where a 255x255 warp costs well under a millisecond.
* ``grid``: the frame is uploaded once and every scale is sampled by one ``grid_sample``
  call on the device, so a GPU never waits for host-side crops.

Both map the square of side ``size`` centred on ``(cx, cy)`` (0-based pixel coordinates)
onto ``out_size`` pixels and fill the outside with the padding colour.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..data.crops import crop_square


def warp_crops(frame: np.ndarray, cx: float, cy: float, sizes: np.ndarray, out_size: int,
               pad_color: np.ndarray) -> np.ndarray:
    """(S, out, out, 3) uint8 crops, one affine warp each."""
    return np.stack([crop_square(frame, cx, cy, float(s), out_size, pad_color) for s in sizes])


def crops_to_input(crops: np.ndarray, device: torch.device,
                   memory_format: torch.memory_format = torch.channels_last) -> torch.Tensor:
    """(N, H, W, 3) uint8 crops -> (N, 3, H, W) float32 network input on ``device``.

    On the CPU NumPy converts (one thread, exact): torch's two-thread conversion of this small
    array stalls whenever a core is busy elsewhere (measured 0.2 ms idle, 2-6 ms under load).
    Elsewhere the uint8 crops travel (4x fewer bytes) and are converted on the device.
    """
    if device.type == "cpu":
        t = torch.from_numpy(crops.astype(np.float32)).permute(0, 3, 1, 2)
    else:
        t = torch.from_numpy(crops).to(device).permute(0, 3, 1, 2).float()
    return t.contiguous(memory_format=memory_format)


def frame_to_device(frame: np.ndarray, device: torch.device) -> torch.Tensor:
    """HWC uint8 -> (1, 3, H, W) float32 on ``device`` (one upload per frame). The frame sits in
    pageable memory, so the copy blocks: queued asynchronously, it could read a freed buffer."""
    t = torch.from_numpy(np.ascontiguousarray(frame)).to(device)
    return t.permute(2, 0, 1).unsqueeze(0).float()


def grid_crops(frame_t: torch.Tensor, cx: float, cy: float, sizes: np.ndarray, out_size: int,
               pad_color: torch.Tensor) -> torch.Tensor:
    """(S, 3, out, out) float crops by one bilinear ``grid_sample``.

    Padding: the padding colour is subtracted before sampling with zeros outside and added
    back, which equals sampling the frame over a mean-colour border.
    """
    _, _, h, w = frame_t.shape
    # The matrices in float64 on the host, float32 on the device (NPUs have no float64 kernels).
    theta = pyramid_theta(np.array([[cx, cy]]), np.asarray(sizes, dtype=np.float64)[None], (h, w), out_size)[0]
    grid = F.affine_grid(torch.from_numpy(theta).to(frame_t.device), [len(sizes), 3, out_size, out_size],
                         align_corners=True)
    centred = (frame_t - pad_color.view(1, 3, 1, 1)).expand(len(sizes), -1, -1, -1)
    out = F.grid_sample(centred, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return out + pad_color.view(1, 3, 1, 1)


def pyramid_theta(centres: np.ndarray, sides: np.ndarray, canvas_hw: tuple[int, int],
                  out_size: int) -> np.ndarray:
    """(B, S, 2, 3) float32 ``affine_grid`` matrices for B centres (B, 2) and sides (B, S).

    Computed on the host in float64 (a few numbers per frame) with the same mapping as
    :func:`grid_crops`, normalised by the canvas the frames are sampled from.
    """
    h, w = canvas_hw
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 1, 2)
    sides = np.asarray(sides, dtype=np.float64)
    theta = np.zeros(sides.shape + (2, 3), dtype=np.float64)
    theta[..., 0, 0] = (out_size - 1) * sides / (out_size * max(w - 1, 1))
    theta[..., 0, 2] = 2.0 * centres[..., 0] / max(w - 1, 1) - 1.0
    theta[..., 1, 1] = (out_size - 1) * sides / (out_size * max(h - 1, 1))
    theta[..., 1, 2] = 2.0 * centres[..., 1] / max(h - 1, 1) - 1.0
    return theta.astype(np.float32)


def sample_pyramid(frames_u8: torch.Tensor, theta: torch.Tensor, pad_color: torch.Tensor, out_size: int,
                   frame_hw: torch.Tensor | None = None, channels_last: bool = True) -> torch.Tensor:
    """All scales of all frames in ONE ``grid_sample``: (B, Hc, Wc, 3) uint8 -> (B*S, 3, out, out).

    Frames of different sizes share a canvas (top-left aligned); ``frame_hw`` (B, 2) marks each
    frame's valid part, the rest counts as outside (padding colour). The S grids of a frame are
    stacked along the output height, so the frame is read once and never repeated.
    """
    b, hc, wc, _ = frames_u8.shape
    s = theta.shape[1]
    pad = pad_color.view(b, 3, 1, 1)
    centred = frames_u8.permute(0, 3, 1, 2).float() - pad
    if frame_hw is not None:
        rows = torch.arange(hc, device=frames_u8.device).view(1, hc, 1)
        cols = torch.arange(wc, device=frames_u8.device).view(1, 1, wc)
        inside = (rows < frame_hw[:, 0].view(b, 1, 1)) & (cols < frame_hw[:, 1].view(b, 1, 1))
        centred = centred * inside.unsqueeze(1)
    grid = F.affine_grid(theta.reshape(b * s, 2, 3), [b * s, 3, out_size, out_size], align_corners=True)
    grid = grid.reshape(b, s * out_size, out_size, 2)
    out = F.grid_sample(centred, grid, mode="bilinear", padding_mode="zeros", align_corners=True) + pad
    out = out.reshape(b, 3, s, out_size, out_size)
    if channels_last:   # one copy straight into the layout the backbone wants
        return out.permute(0, 2, 3, 4, 1).reshape(b * s, out_size, out_size, 3).permute(0, 3, 1, 2)
    return out.transpose(1, 2).reshape(b * s, 3, out_size, out_size)
