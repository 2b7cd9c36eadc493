"""One exported branch run outside PyTorch: ``runner(x) -> features`` on float32 NumPy arrays.

* :class:`OrtRunner`: ONNX Runtime, with execution providers picked from what the installed build
  has (:func:`choose_providers`: CANN, then CUDA, then CPU, or the ones asked for);
* :class:`OmRunner`: an atc-converted OM file on an Ascend card through ais_bench's
  ``InferSession(device_id, model_path)`` / ``infer(feeds, mode)`` (the ait benchmark Python API).

Both check the graph against ``meta.json`` on load, so a file of another network is refused before
it produces boxes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .atc import BATCH_GEARS
from .meta import DeployError, GraphInfo, check_graph_file

GEARS = tuple(int(g) for g in BATCH_GEARS.split(","))

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider", "cann": "CANNExecutionProvider",
             "tensorrt": "TensorrtExecutionProvider", "openvino": "OpenVINOExecutionProvider"}
PREFERENCE = ("CANNExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
PROVIDER_PACKAGES = {"CUDAExecutionProvider": "onnxruntime-gpu", "TensorrtExecutionProvider": "onnxruntime-gpu",
                     "CANNExecutionProvider": "onnxruntime-cann", "OpenVINOExecutionProvider": "onnxruntime-openvino"}


def require_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise DeployError("the onnxruntime backend needs onnxruntime: pip install -e '.[deploy]' (CPU), "
                          "onnxruntime-gpu (CUDA) or onnxruntime-cann (Ascend)") from exc
    return onnxruntime


def choose_providers(requested: str | Sequence[str] | None = "auto") -> list[str]:
    """Execution providers in order: "auto" (the best installed, CPU last) or names such as "cuda,cpu"."""
    ort = require_onnxruntime()
    installed = ort.get_available_providers()
    if requested in (None, "auto"):
        return [p for p in PREFERENCE if p in installed]
    names = requested.split(",") if isinstance(requested, str) else list(requested)
    chosen = []
    for name in (n.strip() for n in names if n.strip()):
        full = PROVIDERS.get(name.lower(), name)
        if full not in PROVIDERS.values() and full not in installed:
            raise DeployError(f"unknown execution provider {name!r}: use auto, "
                              f"{', '.join(PROVIDERS)} or a full name this onnxruntime has ({', '.join(installed)})")
        if full not in installed:
            raise DeployError(f"execution provider {full} is not in this onnxruntime build (it has "
                              f"{', '.join(installed)}): install {PROVIDER_PACKAGES.get(full, 'a build with it')}")
        chosen.append(full)
    return chosen


def _dims(value_info) -> list[int | None]:
    return [d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim]


def check_onnx_graph(path: Path, info: GraphInfo) -> None:
    """Parse, check and compare the graph's signature with the export's record; refuse naming what differs."""
    from .onnx_export import require_onnx

    onnx = require_onnx()
    if not path.is_file():
        raise DeployError(f"graph {path} is missing; export again with `python -m siamfc_lib.export`")
    try:
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except Exception as exc:  # noqa: BLE001 - protobuf and the checker raise many types
        raise DeployError(f"{path} is not a valid ONNX file ({type(exc).__name__}: {str(exc)[:200]}); "
                          "export again with `python -m siamfc_lib.export`") from exc
    graph = proto.graph
    inputs = [(i.name, _dims(i)) for i in graph.input]
    outputs = [(o.name, _dims(o)) for o in graph.output]
    want_in, want_out = [(info.input_name, info.input_shape)], [(info.output_name, info.output_shape)]
    if inputs != want_in or outputs != want_out:
        raise DeployError(f"{path} is not this export's graph: it takes {inputs} and gives {outputs}, "
                          f"meta.json expects {want_in} -> {want_out}; export again")
    check_graph_file(path, info)


class OrtRunner:
    """One ONNX graph in an ``onnxruntime.InferenceSession``."""

    def __init__(self, path: Path, info: GraphInfo, providers: Sequence[str], threads: int | None = None):
        ort = require_onnxruntime()
        check_onnx_graph(path, info)
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        # no busy-waiting after a run: the tracker's host work (crops, upsampling, torch's own threads)
        # comes next on the same cores, and spinning workers would take them from it
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=list(providers))
        self.providers = self.session.get_providers()
        self.info = info
        self.batch = info.input_shape[0]     # None: any batch

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run([self.info.output_name], {self.info.input_name: x})[0]


def require_ais_bench():
    try:
        from ais_bench.infer.interface import InferSession
    except Exception as exc:  # noqa: BLE001 - aclruntime fails in many ways without CANN
        raise DeployError("the om backend needs Ascend's ais_bench and aclruntime wheels (the ait benchmark "
                          "tool: https://gitee.com/ascend/ait, components/benchmark) and the CANN toolkit "
                          f"sourced (set_env.sh); importing ais_bench.infer.interface failed: {exc}") from exc
    return InferSession


class OmRunner:
    """One OM model on an Ascend card (``atc.sh`` writes ``om/<branch>_bs1.om`` or ``_dyn.om``)."""

    def __init__(self, path: Path, info: GraphInfo, device_id: int = 0):
        session_class = require_ais_bench()
        if not path.is_file():
            raise DeployError(f"OM model {path} is missing: run atc.sh in the export folder on a machine with CANN")
        self.session = session_class(int(device_id), str(path))
        shape = list(self.session.get_inputs()[0].shape)
        want = [-1 if d is None else d for d in info.input_shape]
        if shape[1:] != want[1:] or (info.input_shape[0] is not None and shape[0] != want[0]):
            raise DeployError(f"{path} takes {shape}, this export's {info.file} takes {info.input_shape}: "
                              "convert again with the export's atc.sh")
        self.info = info
        self.batch = info.input_shape[0]
        self.mode = "static" if self.batch is not None else "dymbatch"
        self.providers = [f"ais_bench InferSession (npu:{int(device_id)})"]

    def _infer(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.infer([np.ascontiguousarray(x, dtype=np.float32)], mode=self.mode)[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.batch is not None:
            return self._infer(x)
        # a dynamic-batch OM takes only atc's gears: chunks of the largest, each padded to the next gear
        top, out = GEARS[-1], []
        for i in range(0, x.shape[0], top):
            chunk = x[i:i + top]
            gear = next(g for g in GEARS if g >= chunk.shape[0])
            pad = np.zeros((gear - chunk.shape[0], *chunk.shape[1:]), dtype=np.float32)
            out.append(self._infer(np.concatenate([chunk, pad]) if len(pad) else chunk)[:chunk.shape[0]])
        return np.concatenate(out)
