"""The GOT-10k submission check rejects what the server would; 06 reports each benchmark in its own table
with the published SiamFC figures; 05 refuses to mix two benchmarks' results in one folder."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

from siamfc_lib.data.benchmarks import open_benchmark
from siamfc_lib.evaluation.evaluate import evaluate_benchmarks
from siamfc_lib.evaluation.submission import SubmissionError, check_submission, validate_submission, write_submission
from siamfc_lib.model import build_model
from siamfc_lib.reporting.report import write_report
from siamfc_lib.reporting.summary import benchmark_markdown


@pytest.fixture(scope="module")
def two_benchmarks(look_alikes, tmp_path_factory):
    """One 05 call over GOT-10k test and UAV123 (a list of benchmarks) in one run_dir."""
    torch.manual_seed(1)
    run_dir = tmp_path_factory.mktemp("eval")
    params = {"benchmark": ["got10k_test", "uav123"],
              "benchmark_root": [str(look_alikes["got10k"]), str(look_alikes["uav123"])], "device": "cpu",
              "run_dir": str(run_dir), "decode_workers": 0, "baselines": [], "sweep_epochs": None}
    outcomes = evaluate_benchmarks(params, model=build_model(width=0.25), log=lambda line: None)
    return run_dir, outcomes


def _zip_with(path, files: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def test_the_check_names_every_way_a_submission_would_be_rejected(two_benchmarks, tmp_path):
    run_dir, outcomes = two_benchmarks
    test = outcomes[0]
    good = test.submission
    assert validate_submission(good, test.dataset) == []
    with zipfile.ZipFile(good) as z:
        files = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    first, second = test.dataset.names
    broken = dict(files)
    del broken[f"{second}/{second}_time.txt"]
    broken[f"{first}/{first}_001.txt"] = b"\n".join(files[f"{first}/{first}_001.txt"].splitlines()[:-1]) + b"\n"
    broken[f"{first}/.tracker"] = b"abc"
    broken["readme.txt"] = b"hello"
    broken["GOT-10k_Test_000099/GOT-10k_Test_000099_001.txt"] = b"1,2,3,4\n"
    problems = validate_submission(_zip_with(tmp_path / "bad.zip", broken), test.dataset)
    text = "\n".join(problems)
    for expected in (f"{second}/{second}_time.txt is missing", f"{first}/{first}_001.txt: {len(test.dataset[first]) - 1} rows",
                     f"{first}/.tracker: not part", "readme.txt: the zip must hold", "GOT-10k_Test_000099/: not a test"):
        assert expected in text, text
    nan = dict(files)
    rows = files[f"{first}/{first}_001.txt"].decode().splitlines()
    nan[f"{first}/{first}_001.txt"] = ("\n".join([rows[0], "nan,1,2,3"] + rows[2:]) + "\n").encode()
    shifted = dict(files)
    shifted[f"{second}/{second}_001.txt"] = ("\n".join(["0,0,5,5"] + rows[1:len(test.dataset[second])]) + "\n").encode()
    assert any("not 4 finite numbers" in p for p in validate_submission(_zip_with(tmp_path / "n.zip", nan), test.dataset))
    assert any("is not the given first box" in p
               for p in validate_submission(_zip_with(tmp_path / "s.zip", shifted), test.dataset))
    missing = {k: v for k, v in files.items() if not k.startswith(second)}
    with pytest.raises(SubmissionError, match=f"{second}: missing from the zip"):
        check_submission(_zip_with(tmp_path / "m.zip", missing), test.dataset)


def test_the_zip_is_the_same_bytes_for_the_same_results(two_benchmarks, tmp_path):
    run_dir, outcomes = two_benchmarks
    test = outcomes[0]
    again = write_submission(test.run_dir, "SiamFC", test.dataset.names, tmp_path / "again.zip")
    assert again.read_bytes() == test.submission.read_bytes()


def test_each_benchmark_has_its_own_folder_table_and_published_figures(two_benchmarks, tmp_path):
    run_dir, outcomes = two_benchmarks
    assert [o.run_dir for o in outcomes] == [run_dir / "got10k_test", run_dir / "uav123"]
    summary, figures = write_report([], [str(run_dir)], tmp_path / "results")
    tables = {t["benchmark"]: t for t in summary["benchmarks"]}
    assert list(tables) == ["got10k_test", "uav123"]
    got10k = benchmark_markdown(tables["got10k_test"])
    assert "### GOT-10k test" in got10k and "evaluation server" in got10k and "| AO | SR0.5 | SR0.75 |" in got10k
    assert "0.348" in got10k and "TPAMI 2019" in got10k and str(outcomes[0].submission) in got10k
    assert "embedded look-alike" in got10k
    uav = benchmark_markdown(tables["uav123"])
    assert "### UAV123" in uav and "ExperimentUAV123" in uav and "No published SiamFC figure" in uav
    assert [(r["tracker"], r["auc"]) for r in tables["uav123"]["rows"]] == [
        (name, r["auc"]) for name, r in outcomes[1].reports.items()] and len(tables["uav123"]["rows"]) == 2
    assert [r["tracker"] for r in tables["got10k_test"]["rows"]] == ["SiamFC"]     # nothing else could be scored
    assert set(figures) >= {"uav123_success", "uav123_precision"} and "got10k_test_success" not in figures
    assert (tmp_path / "results" / "success_plots_uav123.png").exists()


def test_05_refuses_to_mix_benchmarks_in_one_run_folder(two_benchmarks, look_alikes):
    run_dir, _ = two_benchmarks
    params = {"benchmark": "lasot", "benchmark_root": str(look_alikes["lasot"]), "device": "cpu",
              "run_dir": str(run_dir / "uav123"), "decode_workers": 0}
    from siamfc_lib.evaluation.evaluate import run_evaluation

    with pytest.raises(ValueError, match="holds an evaluation of uav123 .* pass another run_dir"):
        run_evaluation(params, model=build_model(width=0.25), log=lambda line: None)
    with pytest.raises(ValueError, match="2 folders for 1 benchmarks"):
        evaluate_benchmarks({**params, "benchmark_root": ["a", "b"]}, log=lambda line: None)
    with pytest.raises(ValueError, match="unknown benchmark 'vot2018'"):
        evaluate_benchmarks({**params, "benchmark": ["lasot", "vot2018"]}, log=lambda line: None)


def test_the_viewer_records_a_sequence_whose_boxes_are_hidden(look_alikes):
    from siamfc_lib.tracking.tracker import SiamFCTracker
    from siamfc_lib.visualisation.response_viewer import record_sequence, render_frame

    seq = open_benchmark("got10k_test", look_alikes["got10k"])[0]
    data = record_sequence(SiamFCTracker(build_model(width=0.25), device="cpu"), seq, 4)
    assert data.gt.shape == (4, 4) and np.isnan(data.gt[1:]).all() and np.isfinite(data.gt[0]).all()
    assert render_frame(data, 0).ndim == 3
    assert json.dumps(np.isnan(data.ious[1:]).tolist()) == "[true, true, true]"
