"""Run the numbered notebooks headlessly with papermill for one profile (``make demo``).

Each notebook gets ``params/<profile>/<stem>.yaml``; executed copies and an HTML export go
to ``<out>/notebooks/``, the results report also to ``<out>/report.html``; ``<out>/pipeline.json``
records what ran and how long it took.
A failing notebook stops the pipeline with papermill's error and the path of the partial
output notebook, which shows the failing cell.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from .config import load_params
from .io_utils import atomic_write_text
from .paths import project_root

# 07 runs before 06: the report (06) shows 07's tracked video beside the evaluation.
NOTEBOOKS = ("01_curate", "02_lmdb", "03_train_1p", "04_train_8p", "05_eval_otb", "07_track_video", "06_results")


def export_html(notebook: Path, html: Path | None = None, title: str | None = None, code: bool = True) -> Path:
    """HTML of an executed notebook; ``code=False`` leaves out every input (the report reads as a report)."""
    import nbconvert
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["title"] = title or notebook.stem   # the page title (nbconvert's default is "Notebook")
    # Saved widget state makes nbconvert draw widgets with JavaScript from a CDN (blank offline,
    # dead without a kernel): without it, outputs fall back to their image (the viewer's PNG).
    nb.metadata.pop("widgets", None)
    exporter = nbconvert.HTMLExporter(exclude_input=not code, exclude_input_prompt=not code,
                                      exclude_output_prompt=not code)
    body, _ = exporter.from_notebook_node(nb)
    body = _with_alt_texts(nb, body)
    html = html or notebook.with_suffix(".html")
    atomic_write_text(html, body)
    return html


_PLACEHOLDER_ALT = 'alt="No description has been provided for this image"'


def _with_alt_texts(nb, html: str) -> str:
    """Each figure's own description (``alt`` in its output's metadata, see ``visualisation.canvas.shown``)
    instead of the placeholder nbconvert's lab template gives every image, in document order."""
    import html as html_lib

    alts = [output.get("metadata", {}).get(mime, {}).get("alt")
            for cell in nb.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
            for mime in ("image/png", "image/jpeg") if mime in output.get("data", {})]
    if html.count(_PLACEHOLDER_ALT) != len(alts):
        return html            # another layout than expected: leave nbconvert's text
    parts = html.split(_PLACEHOLDER_ALT)
    out = [parts[0]]
    for alt, rest in zip(alts, parts[1:]):
        out.append(f'alt="{html_lib.escape(alt)}"' if alt else _PLACEHOLDER_ALT)
        out.append(rest)
    return "".join(out)


def export_report(executed_results: Path, out: Path, profile: str) -> Path:
    """``<out>/report.html``: the executed 06_results without code cells, titled with the profile."""
    return export_html(executed_results, out / "report.html", code=False,
                       title=f"SiamFC reproduction: results report ({profile} profile)")


# Profiles sized for an accelerator: on the CPU they would run for hours, so they stop first.
ACCELERATOR_PROFILES = ("gpu",)


def check_profile_device(profile: str) -> None:
    """Refuse an accelerator profile on a machine where ``device: auto`` resolves to the CPU."""
    if profile not in ACCELERATOR_PROFILES:
        return
    import torch

    from .devices import resolve_device

    if resolve_device("auto").kind == "cpu":
        raise SystemExit(f"profile {profile!r} trains a full-width network and needs a GPU or NPU, but torch "
                         f"{torch.__version__} sees none. Install an accelerator build of torch "
                         "(docs/install-and-ascend.md), or run `make demo` (the CPU profile).")


def run(profile: str, out: str | Path, only: list[str] | None = None) -> dict:
    import papermill

    check_profile_device(profile)
    root = project_root()
    out = (root / out) if not Path(out).is_absolute() else Path(out)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    record = {"profile": profile, "notebooks": []}
    total = time.perf_counter()
    for stem in NOTEBOOKS:
        src = root / "notebooks" / f"{stem}.ipynb"
        params_file = root / "params" / profile / f"{stem}.yaml"
        if (only and stem not in only) or not src.exists():
            continue
        params = load_params(params_file) if params_file.exists() else {}
        dst = out / "notebooks" / f"{stem}.ipynb"
        print(f"[pipeline] {stem} (profile {profile}) -> {dst}", flush=True)
        start = time.perf_counter()
        papermill.execute_notebook(str(src), str(dst), parameters=params, kernel_name="python3",
                                   cwd=str(root), log_output=True, progress_bar=False)
        seconds = time.perf_counter() - start
        html = export_html(dst, title=f"{stem} ({profile} profile)")
        print(f"[pipeline] {stem} done in {seconds:.1f}s; HTML {html}", flush=True)
        record["notebooks"].append({"notebook": stem, "seconds": round(seconds, 1),
                                    "executed": str(dst.relative_to(root)) if dst.is_relative_to(root) else str(dst),
                                    "html": str(html.name)})
        atomic_write_text(out / "pipeline.json", json.dumps(record, indent=2))
    results = out / "notebooks" / "06_results.ipynb"
    if results.exists():
        export_report(results, out, profile)  # the reproduction's report, one click away
    record["seconds"] = round(time.perf_counter() - total, 1)
    atomic_write_text(out / "pipeline.json", json.dumps(record, indent=2))
    print(f"[pipeline] profile {profile}: {len(record['notebooks'])} notebooks in {record['seconds']}s; "
          f"outputs under {out}", flush=True)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo", choices=["smoke", "demo", "gpu", "paper", "ascend"])
    parser.add_argument("--out", default=None, help="output folder (default outputs/<profile>)")
    parser.add_argument("--only", nargs="*", help="notebook stems to run")
    args = parser.parse_args(argv)
    # papermill logs each cell's output on its "papermill" logger: that is the live progress.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("    %(message)s"))
    papermill_log = logging.getLogger("papermill")
    papermill_log.addHandler(handler)
    papermill_log.setLevel(logging.INFO)
    papermill_log.propagate = False
    run(args.profile, args.out or f"outputs/{args.profile}", args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
