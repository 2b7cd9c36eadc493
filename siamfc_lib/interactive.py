"""The JupyterLab route (``make lab``, ``make notebook NB=05 PROFILE=demo``).

Editing a committed notebook's parameters cell in JupyterLab autosaves into git. Instead,
``notebook`` writes a parameterised copy with papermill's prepare-only mode (the profile's
values injected as a ``# Parameters`` cell, nothing executed) into
``outputs/<profile>/interactive/`` and opens that copy; the committed notebook is only read.
Kernels started there find the project root upward from their folder, so the profile's
relative paths resolve as under ``make demo``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .paths import project_root
from .pipeline import NOTEBOOKS


def resolve_notebook(name: str) -> str:
    """``05``, ``5``, ``05_eval_otb`` or ``notebooks/05_eval_otb.ipynb`` -> ``05_eval_otb``."""
    key = Path(str(name)).stem
    matches = [s for s in NOTEBOOKS if s == key or s.split("_")[0] == key.zfill(2) or s.startswith(key + "_")]
    if len(matches) != 1:
        raise SystemExit(f"NB={name!r} names no single notebook; choose one of: {', '.join(NOTEBOOKS)} "
                         f"(e.g. make notebook NB=05 PROFILE=demo)")
    return matches[0]


def prepare(name: str, profile: str, root: str | Path | None = None, out: str | Path | None = None,
            force: bool = False) -> Path:
    """Write ``<out>/<stem>.ipynb``: the committed notebook with ``params/<profile>/<stem>.yaml`` injected.

    An existing copy is kept (it holds the user's work) unless ``force``.
    """
    import papermill

    from .config import load_params

    root = Path(root) if root else project_root()
    stem = resolve_notebook(name)
    params_file = root / "params" / profile / f"{stem}.yaml"
    if not params_file.exists():
        profiles = sorted(p.name for p in (root / "params").iterdir() if p.is_dir())
        raise SystemExit(f"no parameters for {stem} in profile {profile!r}: {params_file} does not exist "
                         f"(profiles: {', '.join(profiles)})")
    out = Path(out) if out else root / "outputs" / profile / "interactive"
    dst = out / f"{stem}.ipynb"
    if dst.exists() and not force:
        print(f"keeping your copy {dst} (delete it, or FORCE=1, to start again from the committed notebook)")
        return dst
    out.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(root / "notebooks" / f"{stem}.ipynb"), str(dst),
                               parameters=load_params(params_file), prepare_only=True,
                               kernel_name="python3", progress_bar=False, log_output=False)
    print(f"prepared {dst} with {params_file.relative_to(root)} (edit freely: it is not tracked by git)")
    return dst


def lab_command(root: Path, open_file: Path | None = None, extra: list[str] | None = None) -> list[str]:
    """``python -m jupyterlab`` serving the project root, showing ``notebooks/`` or opening ``open_file``.

    JupyterLab refuses to start as root without ``--allow-root`` (containers often run as root).
    """
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
           # committed notebooks are saved stripped: an open Lab cannot re-dirty git (siamfc_lib.nbhygiene)
           "--FileContentsManager.pre_save_hook=siamfc_lib.nbhygiene.pre_save_hook"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    cmd += list(extra or [])
    if open_file is None:
        cmd.append("--LabApp.default_url=/lab/tree/notebooks")
    else:
        cmd.append(str(Path(open_file).resolve()))  # a file argument is opened in the browser
    return cmd


def _option(extra: list[str], name: str) -> str | None:
    """The value of ``--name=value`` or ``--name value`` among JupyterLab's options, if given."""
    for i, arg in enumerate(extra):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and i + 1 < len(extra):
            return extra[i + 1]
    return None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def address_options(root: Path, open_file: Path | None, extra: list[str]) -> tuple[list[str], str]:
    """Options that fix the port and token, and the URL that opens ``open_file`` (or notebooks/) with them.

    Started with ``--no-browser`` (a remote machine), JupyterLab prints only ``/lab?token=...``, which
    opens on the committed notebooks; this URL opens the interactive copy itself.
    """
    import secrets

    added = []
    port = _option(extra, "port") or _option(extra, "ServerApp.port")
    if port is None:
        port = str(_free_port())
        added += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    token = _option(extra, "IdentityProvider.token") or _option(extra, "ServerApp.token")
    if token is None:
        token = secrets.token_hex(24)
        added.append(f"--IdentityProvider.token={token}")
    host = _option(extra, "ip") or _option(extra, "ServerApp.ip") or "localhost"
    host = "localhost" if host in ("0.0.0.0", "*", "") else host
    target = (Path(open_file).resolve().relative_to(root) if open_file is not None else Path("notebooks")).as_posix()
    return added, f"http://{host}:{port}/lab/tree/{target}?token={token}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("what", choices=["lab", "notebook"])
    parser.add_argument("nb", nargs="?", help="notebook for `notebook`: 01..06 or its stem")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--force", action="store_true", help="overwrite an existing interactive copy")
    parser.add_argument("--dry-run", action="store_true", help="print the JupyterLab command instead of running it")
    args, extra = parser.parse_known_args(argv)
    root = project_root()
    if args.what == "notebook":
        if not args.nb:
            raise SystemExit(f"which notebook? make notebook NB=05 PROFILE=demo ({', '.join(NOTEBOOKS)})")
        target = prepare(args.nb, args.profile, root, force=args.force)
    else:
        target = None
    added, url = address_options(root, target, extra)
    cmd = lab_command(root, target, extra + added)
    if args.dry_run:
        print(" ".join(cmd), flush=True)
    print(f"JupyterLab opens {target.relative_to(root) if target else 'notebooks/'} at:\n    {url}\n"
          "(Ctrl-C, then y, stops it; on a remote machine forward the port, e.g. ssh -L <port>:localhost:<port>)",
          flush=True)
    if args.dry_run:
        return 0
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        raise SystemExit(f"JupyterLab is not installed for {sys.executable}: `make lab` installs it "
                         f"(or {Path(sys.executable).parent}/pip install -e '.[notebook]')") from None
    os.chdir(root)
    os.execv(cmd[0], cmd)   # JupyterLab itself takes Ctrl-C: its own shutdown, no wrapper traceback


if __name__ == "__main__":
    sys.exit(main())
