"""The JupyterLab route: open/run/save + strip leaves git clean; make notebook never edits a committed notebook."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from siamfc_lib import interactive
from siamfc_lib.nbhygiene import KERNEL_DISPLAY_NAME, KERNELSPEC

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _jupyterlab_save(path: Path, display_name: str) -> None:
    """What opening, Run All and saving in JupyterLab 4 does to a notebook file."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec.display_name = display_name
    nb.metadata.language_info = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                                 "pygments_lexer": "ipython3", "version": "3.11.9"}
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                         "version_minor": 0}}
    for n, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "code":
            cell.execution_count = n
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"cell {n}\n"),
                            nbformat.v4.new_output("execute_result", {"text/plain": "PosixPath('/x')"},
                                                   execution_count=n)]
            cell.metadata["scrolled"] = True
            cell.metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00.000Z"}
    nbformat.write(nb, path)


def test_makefile_registers_the_kernel_name_the_notebooks_carry():
    registered = re.search(r'ipykernel install .*--name (\S+) --display-name "([^"]+)"',
                           (ROOT / "Makefile").read_text())
    assert registered and registered.groups() == (KERNELSPEC["name"], KERNEL_DISPLAY_NAME)
    for path in NOTEBOOKS:
        assert json.loads(path.read_text())["metadata"]["kernelspec"] == KERNELSPEC, path.name


@pytest.mark.skipif(not (shutil.which("git") and shutil.which("make")), reason="needs git and make")
@pytest.mark.parametrize("display_name", [KERNEL_DISPLAY_NAME, "Python 3 (ipykernel)"])
def test_open_run_save_then_strip_leaves_git_clean(tmp_path, display_name):
    """The registered kernel, and another one named differently (JupyterLab outside `make lab`)."""
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, repo / name)
    for path in NOTEBOOKS:
        shutil.copy(path, repo / "notebooks" / path.name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "committed notebooks")
    for path in (repo / "notebooks").glob("*.ipynb"):
        _jupyterlab_save(path, display_name)
    assert len(_git(repo, "status", "--porcelain").splitlines()) == len(NOTEBOOKS)
    venv = Path(sys.executable).parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    # -o: the venv is already built (the copied Makefile is newer than its stamp).
    subprocess.run(["make", "-s", "-o", f"{venv}/.siamfc-installed", "strip-notebooks", f"VENV={venv}"],
                   cwd=repo, env=env, check=True, capture_output=True)
    assert _git(repo, "status", "--porcelain") == ""


@pytest.mark.skipif(not shutil.which("git"), reason="needs git")
def test_with_the_clean_filter_an_open_jupyterlab_never_dirties_git(tmp_path):
    """Autosave of an open JupyterLab writes outputs back after `make strip-notebooks`; git's clean
    filter (which `make venv` registers) stores and compares the committed form, so there is nothing to
    diff or commit (git status lists a file whose size changed until `git add` refreshes it); a real
    edit of a cell still shows."""
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, repo / "notebooks" / path.name)
    shutil.copy(ROOT / ".gitattributes", repo / ".gitattributes")
    _git(repo, "init", "-q")
    env_python = f"env PYTHONPATH={ROOT} {sys.executable}"
    _git(repo, "config", "filter.siamfc-notebooks.clean", f"{env_python} -m siamfc_lib.nbfilter %f")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "committed notebooks")
    for path in (repo / "notebooks").glob("*.ipynb"):
        _jupyterlab_save(path, "Python 3 (ipykernel)")
    assert _git(repo, "diff") == ""
    _git(repo, "add", "-A")
    assert _git(repo, "status", "--porcelain") == "" and _git(repo, "diff", "--cached") == ""
    path = repo / "notebooks" / "02_lmdb.ipynb"
    path.write_text(path.read_text().replace("enter_project_root()", "enter_project_root()  # edited"))
    assert _git(repo, "status", "--porcelain").strip() == "M notebooks/02_lmdb.ipynb"


def test_jupyterlab_started_by_make_saves_committed_notebooks_in_their_committed_form(tmp_path):
    """`make lab` / `make notebook` install a pre-save hook: autosave cannot write outputs into notebooks/."""
    from siamfc_lib import nbhygiene

    path = tmp_path / "05.ipynb"
    shutil.copy(ROOT / "notebooks" / "05_eval_otb.ipynb", path)
    _jupyterlab_save(path, "Python 3 (ipykernel)")
    model = {"type": "notebook", "content": nbformat.read(path, as_version=4)}
    nbhygiene.pre_save_hook(model, "notebooks/05_eval_otb.ipynb", None)
    assert nbformat.writes(model["content"]) + "\n" == (ROOT / "notebooks" / "05_eval_otb.ipynb").read_text()
    copy = {"type": "notebook", "content": nbformat.read(path, as_version=4)}
    nbhygiene.pre_save_hook(copy, "outputs/demo/interactive/05_eval_otb.ipynb", None)
    assert any(c.get("outputs") for c in copy["content"].cells)        # working copies keep their outputs
    assert "--FileContentsManager.pre_save_hook=siamfc_lib.nbhygiene.pre_save_hook" in \
        interactive.lab_command(ROOT, None)


def test_make_notebook_prepares_a_parameterised_copy_and_never_edits_the_committed_one(tmp_path):
    committed = (ROOT / "notebooks" / "05_eval_otb.ipynb").read_bytes()
    out = interactive.prepare("05", "demo", ROOT, out=tmp_path)
    assert out == tmp_path / "05_eval_otb.ipynb"
    assert (ROOT / "notebooks" / "05_eval_otb.ipynb").read_bytes() == committed
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "otb_root = \"outputs/demo/data/OTB\"" in injected[0].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")   # prepared, not run
    # A second call keeps the user's edits.
    out.write_text(out.read_text().replace("viewer_max_frames = 100", "viewer_max_frames = 7"))
    interactive.prepare("05", "demo", ROOT, out=tmp_path)
    assert "viewer_max_frames = 7" in out.read_text()


def test_notebook_names_and_lab_command(monkeypatch, tmp_path):
    assert interactive.resolve_notebook("5") == interactive.resolve_notebook("05_eval_otb") == "05_eval_otb"
    with pytest.raises(SystemExit, match="01_curate"):
        interactive.resolve_notebook("9")
    for euid, allow in ((0, True), (1000, False)):
        monkeypatch.setattr(os, "geteuid", lambda euid=euid: euid)
        cmd = interactive.lab_command(ROOT, None, ["--no-browser"])
        assert ("--allow-root" in cmd) is allow
        assert cmd[:3] == [sys.executable, "-m", "jupyterlab"] and "--no-browser" in cmd
    target = ROOT / "outputs" / "demo" / "interactive" / "05_eval_otb.ipynb"
    assert interactive.lab_command(ROOT, target)[-1] == str(target)


def test_the_address_printed_opens_the_interactive_copy(tmp_path):
    """With --no-browser JupyterLab prints only /lab?token=...: the committed notebooks, not the copy."""
    copy = ROOT / "outputs" / "demo" / "interactive" / "05_eval_otb.ipynb"
    added, url = interactive.address_options(ROOT, copy, ["--no-browser", "--ip=0.0.0.0"])
    port = next(a.split("=")[1] for a in added if a.startswith("--ServerApp.port="))
    token = next(a.split("=")[1] for a in added if a.startswith("--IdentityProvider.token="))
    assert url == f"http://localhost:{port}/lab/tree/outputs/demo/interactive/05_eval_otb.ipynb?token={token}"
    added, url = interactive.address_options(ROOT, None, ["--port", "8890", "--IdentityProvider.token=abc"])
    assert added == [] and url == "http://localhost:8890/lab/tree/notebooks?token=abc"


def test_the_filter_passes_a_notebook_through_when_it_cannot_strip_it(monkeypatch, capsys):
    """Git must never receive an empty notebook: with the library broken (say mid-merge), the text passes."""
    import io

    from siamfc_lib import nbfilter

    text = '{"cells": [], "truncated'
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert nbfilter.main(["notebooks/05_eval_otb.ipynb"]) == 0
    assert capsys.readouterr().out == text
