"""``python -m siamfc_lib.weights import FILE --from {hl,sz,matconvnet} --out CHECKPOINT.pth``."""
from __future__ import annotations

import argparse
import sys

from .common import SOURCES, WeightsError, import_weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m siamfc_lib.weights",
                                     description="Import released SiamFC weights as a checkpoint 05_eval_otb takes.")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="convert a released weights file")
    imp.add_argument("file")
    imp.add_argument("--from", dest="source", required=True, choices=sorted(SOURCES),
                     help="; ".join(f"{k}: {v}" for k, v in SOURCES.items()))
    imp.add_argument("--out", required=True, help="checkpoint to write (.pth)")
    args = parser.parse_args(argv)
    try:
        ckpt = import_weights(args.file, args.source, args.out)
    except WeightsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    info = ckpt["imported_from"]
    print(f"wrote {args.out}: SiamFC width 1.0 from {info['description']} (score = {info['out_scale']:g} * xcorr "
          f"+ {info['out_bias']:g}); evaluate it with 05_eval_otb checkpoint={args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
