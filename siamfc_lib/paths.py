"""Relative paths in params files are relative to the project root, wherever papermill runs."""
from __future__ import annotations

import os
from pathlib import Path


def project_root(start: str | Path | None = None) -> Path:
    """The nearest folder upward holding ``pyproject.toml`` and ``siamfc_lib`` (else the cwd)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() and (folder / "siamfc_lib").is_dir():
            return folder
    return here


def enter_project_root() -> Path:
    """chdir to the project root so the seed's relative paths (data/..., dataset/OTB) resolve.

    Notebooks call this first: papermill starts kernels in the notebook's folder or wherever
    the user typed the command.
    """
    root = project_root()
    os.chdir(root)
    return root
