"""``python -m siamfc_lib.export CHECKPOINT --format onnx --out DIR [--dynamic-batch] [--soc-version Ascend310P3]``

Writes the exemplar and search branches as ONNX (:mod:`siamfc_lib.deploy.onnx_export`), ``meta.json``
and ``atc.sh`` (the OM conversion for an Ascend card). Track with them:
``python -m siamfc_lib.track VIDEO --box ... --checkpoint DIR --backend onnxruntime``.
A bad input is one line naming the fix, not a traceback.
"""
from __future__ import annotations

import argparse
import sys

from .deploy.meta import DeployError
from .training.checkpoints import CheckpointError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m siamfc_lib.export", description=(
        "Export a trained SiamFC's two branches for deployment (ONNX; OM via the atc.sh written beside them)."))
    p.add_argument("checkpoint", help="a .pth of this project (trained or imported released weights) or a run_dir")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="onnx (OM: run the atc.sh written beside it)")
    p.add_argument("--out", required=True, help="output folder: exemplar.onnx, search.onnx, meta.json, atc.sh")
    p.add_argument("--dynamic-batch", action="store_true", help="a free batch dimension (batched evaluation)")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default 11, the Ascend ModelZoo's)")
    p.add_argument("--soc-version", default=None,
                   help="Ascend chip for atc.sh, as npu-smi info shows it (Ascend310, Ascend310P3, Ascend910B3); "
                        "default: read $SOC_VERSION when atc.sh runs")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .deploy.atc import soc_version
    from .deploy.onnx_export import DEFAULT_OPSET, export_onnx

    try:
        if args.soc_version:
            soc_version(args.soc_version)       # a bad chip name fails before minutes of export
        meta = export_onnx(args.checkpoint, args.out, args.dynamic_batch, args.opset or DEFAULT_OPSET,
                           args.soc_version)
    except (CheckpointError, DeployError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, g in meta.graphs.items():
        print(f"{args.out}/{g.file}: {g.input_name} {g.input_shape} -> {g.output_name} {g.output_shape}")
    print(f"{args.out}/meta.json, {args.out}/atc.sh (opset {meta.opset}, {meta.exporter})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
