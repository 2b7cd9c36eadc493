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
    out = tmp_path / "04.out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "04_train_8p.ipynb"), str(out), kernel_name="python3", cwd=str(ROOT),
            progress_bar=False, execution_timeout=240,
            parameters={"data_path": str(tmp_path / "no_such_curation"), "device": "cpu", "npus": 2,
                        "workers": 0, "run_dir": str(tmp_path / "run"), "master_port": _free_port(),
                        "epochs": 1, "progress": False})
    message = str(err.value)
    assert "LaunchError" in message and "failing rank" in message, message[-2000:]
    assert "no curation manifest" in message, message[-2000:]
    assert (tmp_path / "run" / "logs" / "node_0" / "rank_0.log").exists()
