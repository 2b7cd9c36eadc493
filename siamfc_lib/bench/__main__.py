"""``python -m siamfc_lib.bench {curate,lmdb,loader,train,track,eval,scale,video,all}``: JSON to stdout.

Each benchmark lives in ``siamfc_lib/bench/<name>.py`` with ``main(argv) -> dict``.
``same_outputs OLD NEW`` compares two pipeline output trees (exit status 1 when they differ).
"""
from __future__ import annotations

import importlib
import json
import sys

BENCHES = ("curate", "lmdb", "loader", "train", "track", "eval", "scale", "video", "train_memory", "demo_quality",
           "same_outputs", "demo_record")
# demo_quality trains the demo per seed (tens of minutes), train_memory runs 03 six times; video makes and tracks a
# 10-minute video (about 15 minutes on 2 cores); same_outputs and demo_record read demo outputs.
NOT_IN_ALL = ("demo_quality", "same_outputs", "demo_record", "train_memory", "video")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    name, rest = argv[0], argv[1:]
    names = tuple(b for b in BENCHES if b not in NOT_IN_ALL) if name == "all" else (name,)
    if any(n not in BENCHES for n in names):
        print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)} or all", file=sys.stderr)
        return 2
    results = {}
    for n in names:
        module = importlib.import_module(f"siamfc_lib.bench.{n}")
        results[n] = module.main(rest)
        print(json.dumps(results[n] if len(names) == 1 else {n: results[n]}, indent=2), flush=True)
    return 1 if any(r.get("identical") is False for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
