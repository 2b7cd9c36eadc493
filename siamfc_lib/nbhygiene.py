"""Committed notebooks in one exact form, so opening, running and saving them leaves git clean.

JupyterLab rewrites a notebook as soon as it is opened: the kernelspec's display name becomes
that of the registered kernel, ``language_info`` is filled in by the kernel, cells gain
outputs, execution counts and view metadata (``scrolled``, ``execution``), the notebook may
gain ``widgets`` state. :func:`normalise` undoes all of that and nothing else: cell ids,
sources and ``parameters`` tags are kept byte for byte (nbstripout without ``--keep-id``
renumbers the ids, which is a diff in every cell). The training notebooks' ``parameters``
cells are written from their one declaration (:mod:`siamfc_lib.notebook_params`).
``make strip-notebooks`` runs it.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from .notebook_params import NOTEBOOKS as GENERATED_PARAMETERS, parameters_cell
from .io_utils import atomic_write_text

KERNEL_NAME = "python3"
# What `make venv` registers (ipykernel install --display-name); JupyterLab copies it into
# every notebook it opens, so the committed notebooks carry the same string.
KERNEL_DISPLAY_NAME = "Python 3 (siamfc)"
KERNELSPEC = {"display_name": KERNEL_DISPLAY_NAME, "language": "python", "name": KERNEL_NAME}
LANGUAGE_INFO = {"name": "python"}
KEPT_CELL_METADATA = ("tags",)


def normalise(nb: dict, stem: str | None = None) -> dict:
    """The committed form of ``nb`` (an nbformat 4 dict; ``stem``: its file name without ``.ipynb``),
    modified in place and returned."""
    nb["metadata"] = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    nb["nbformat"], nb["nbformat_minor"] = 4, max(int(nb.get("nbformat_minor", 5)), 5)
    for index, cell in enumerate(nb["cells"]):
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k in KEPT_CELL_METADATA and v}
        if not cell.get("id"):
            source = "".join(cell.get("source", ""))
            cell["id"] = hashlib.sha1(f"{index}:{source}".encode()).hexdigest()[:8]
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        if stem in GENERATED_PARAMETERS and "parameters" in cell["metadata"].get("tags", []):
            cell["source"] = parameters_cell(stem)
    return nb


def normalise_file(path: str | Path) -> bool:
    """Rewrite ``path`` in the committed form; True when it changed (untouched files keep their mtime)."""
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    after = committed_text(before, path.stem)      # exactly how Jupyter's server writes
    if after == before:
        return False
    atomic_write_text(path, after)   # an interrupted strip never leaves half a notebook
    return True


def committed_text(text: str, stem: str | None = None) -> str:
    """The committed form of a notebook's text, byte for byte as :func:`normalise_file` writes it."""
    import nbformat

    return nbformat.writes(nbformat.from_dict(normalise(nbformat.reads(text, as_version=4), stem))) + "\n"


def pre_save_hook(model: dict, path: str, contents_manager) -> None:
    """JupyterLab's pre-save hook (``make lab``, ``make notebook``): a committed notebook under
    ``notebooks/`` is saved in its committed form, so an autosave never writes outputs into it; working
    copies elsewhere keep everything."""
    parts = Path(path).parts
    if model.get("type") != "notebook" or len(parts) != 2 or parts[0] != "notebooks":
        return
    normalise(model["content"], Path(path).stem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Strip notebooks to their committed form (outputs, "
                                                 "execution counts, kernel and view metadata); cell ids are kept.")
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if normalise_file(path):
            print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
