"""A failing rank fails the 04 notebook's cell visibly, with the rank and the reason."""
import socket
from pathlib import Path

import papermill
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.faults, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_04_fails_with_the_failing_rank_and_its_error(tmp_path):
    """A damaged manifest passes the launch preflight (which only checks that files exist) and fails in the ranks."""
    out = tmp_path / "04.out.ipynb"
    curation = tmp_path / "damaged_curation"
    curation.mkdir()
    (curation / "manifest.columns").write_bytes(b"not a manifest at all, but long enough")
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "04_train_8p.ipynb"), str(out), kernel_name="python3", cwd=str(ROOT),
            progress_bar=False, execution_timeout=240,
            parameters={"data_path": str(curation), "lmdb_path": "", "device": "cpu", "npus": 2,
                        "workers": 0, "run_dir": str(tmp_path / "run"), "master_port": _free_port(),
                        "epochs": 1, "progress": False})
    message = str(err.value)
    assert "LaunchError" in message and "failing rank" in message, message[-2000:]
    assert "corrupt manifest" in message, message[-2000:]
    assert (tmp_path / "run" / "logs" / "node_0" / "rank_0.log").exists()
