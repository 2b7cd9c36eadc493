"""An exported SiamFC that the PyTorch tracker drives unchanged: only the backbone call differs.

:class:`DeployedSiamFC` has the two attributes the trackers use (``backbone`` and ``head``), so
:class:`~siamfc_lib.tracking.tracker.SiamFCTracker` and the batched evaluation crop, correlate,
upsample, penalise and move exactly as with the PyTorch network. ``backbone`` sends a 127 batch to
the exemplar graph and a 255 batch (scales of one frame after another) to the search graph, stacked
three scales on channels as the graph wants; ``head`` is the project's own
:class:`~siamfc_lib.model.heads.CorrelationHead`, with the checkpoint's scale and bias from
``meta.json``, run by PyTorch on the host.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..model.heads import CorrelationHead
from .meta import DeployError, DeployMeta, read_meta
from .runners import OmRunner, OrtRunner, choose_providers

BACKENDS = ("torch", "onnxruntime", "om")


class GraphBackbone(nn.Module):
    """``(N, 3, H, W)`` float tensor -> features, through the exemplar or the search graph."""

    def __init__(self, exemplar: Callable, search: Callable, meta: DeployMeta):
        super().__init__()
        self.exemplar, self.search, self.meta = exemplar, search, meta

    def _run(self, runner: Callable, x: np.ndarray) -> np.ndarray:
        if runner.batch is None or x.shape[0] == runner.batch:
            return runner(x)
        return np.concatenate([runner(x[i:i + runner.batch]) for i in range(0, x.shape[0], runner.batch)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        host = np.ascontiguousarray(x.detach().float().cpu().numpy())
        m = self.meta
        if h == w == m.exemplar_size:
            out = self._run(self.exemplar, host)
        elif h == w == m.instance_size:
            if n % m.scale_num:
                raise DeployError(f"the search graph takes {m.scale_num} scales per frame, got {n} crops")
            out = self._run(self.search, host.reshape(n // m.scale_num, 3 * m.scale_num, h, w))
        else:
            raise DeployError(f"the exported graphs take {m.exemplar_size} or {m.instance_size} crops, got {h}x{w}")
        out = out.reshape(n, -1, out.shape[-2], out.shape[-1])
        return torch.from_numpy(out).to(x.device)


class DeployedSiamFC(nn.Module):
    """The exported network as a tracker's ``model``; ``backend`` names the runtime and its providers."""

    channels_last = False        # the graphs take contiguous NCHW; no layout change on the host

    def __init__(self, meta: DeployMeta, exemplar: Callable, search: Callable, backend: str, digest: bytes):
        super().__init__()
        self.meta, self.width = meta, meta.width
        self.backbone = GraphBackbone(exemplar, search, meta)
        self.head = CorrelationHead(out_scale=meta.out_scale, learn_bias=meta.head_bias is not None)
        if meta.head_bias is not None:
            with torch.no_grad():
                self.head.bias.fill_(meta.head_bias)
        self.backend = backend
        # the graphs' bytes in the state dict, so results of another export are never reused as these
        self.register_buffer("graphs_sha256", torch.frombuffer(bytearray(digest), dtype=torch.uint8))


def _digest(meta: DeployMeta) -> bytes:
    return hashlib.sha256("".join(g.sha256 for g in meta.graphs.values()).encode()).digest()


def load_onnx_network(export_dir: str | Path, providers: str | Sequence[str] | None = "auto",
                      threads: int | None = None) -> DeployedSiamFC:
    """The export under ``export_dir`` in ONNX Runtime (threads: None = torch's intra-op count, for parity of speed)."""
    meta = read_meta(export_dir)
    chosen = choose_providers(providers)
    threads = threads or torch.get_num_threads()
    runners = {b: OrtRunner(Path(export_dir) / g.file, g, chosen, threads) for b, g in meta.graphs.items()}
    used = runners["search"].providers
    name = "onnxruntime " + ",".join(p.replace("ExecutionProvider", "") for p in used)
    return DeployedSiamFC(meta, runners["exemplar"], runners["search"], name, _digest(meta))


def load_om_network(export_dir: str | Path, device_id: int = 0) -> DeployedSiamFC:
    """The export's OM files (``atc.sh`` writes them under ``om/``) on Ascend card ``device_id``."""
    meta = read_meta(export_dir)
    suffix = "_dyn.om" if meta.dynamic_batch else "_bs1.om"
    runners = {b: OmRunner(Path(export_dir) / "om" / f"{b}{suffix}", g, device_id) for b, g in meta.graphs.items()}
    return DeployedSiamFC(meta, runners["exemplar"], runners["search"], f"om (ais_bench, npu:{device_id})",
                          _digest(meta))


def load_network(export_dir: str | Path, backend: str = "onnxruntime", providers: str | None = "auto",
                 device_id: int = 0) -> DeployedSiamFC:
    """``backend`` "onnxruntime" or "om" (for "torch" load the checkpoint itself)."""
    if backend == "onnxruntime":
        return load_onnx_network(export_dir, providers)
    if backend == "om":
        return load_om_network(export_dir, device_id)
    raise DeployError(f"backend must be one of {', '.join(BACKENDS[1:])} for an export folder, got {backend!r}")
