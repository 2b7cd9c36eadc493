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
    the user typed the command. It also rejects papermill parameters the notebook does not
    declare (:func:`check_injected_parameters`).
    """
    check_injected_parameters()
    root = project_root()
    os.chdir(root)
    return root


def _assigned_names(source: str) -> set[str]:
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def check_injected_parameters(history: list[str] | None = None) -> None:
    """Refuse papermill parameters that the notebook's ``parameters`` cell does not declare.

    papermill only logs "Passed unknown parameter" and runs on, so ``-p lmdb_pth ...`` would
    silently train with the default. The kernel's input history holds the parameters cell
    and papermill's injected cell (which starts with ``# Parameters``); compare their names.
    """
    if history is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is None:
            return
        history = list(shell.user_ns.get("In", []))[:-1]
    declared: set[str] | None = None
    injected: set[str] = set()
    for source in history:
        if not source.strip():
            continue
        if source.lstrip().startswith("# Parameters"):
            injected |= _assigned_names(source)
        elif declared is None:
            declared = _assigned_names(source)
    unknown = sorted(injected - (declared or set()))
    if unknown:
        from .config import ConfigError

        raise ConfigError(f"unknown notebook parameter(s): {', '.join(unknown)}; this notebook declares: "
                          f"{', '.join(sorted(declared or ()))}")
