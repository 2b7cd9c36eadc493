"""report.html reads as a report: no code, labelled tables, and no number for a run nobody evaluated."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import papermill
import pytest

from siamfc_lib.pipeline import export_report
from siamfc_lib.data.provenance import EMBEDDED_OTB, OTB2015, dataset_label
from siamfc_lib.evaluation.results import write_eval_info
from siamfc_lib.reporting.summary import build_summary, training_data_label

ROOT = Path(__file__).resolve().parents[1]


def _report(tracker: str, precision: float, attrs=("IV", "OCC")) -> dict:
    return {"tracker": tracker, "dataset": "OTB", "sequences": 2, "frames": 40, "auc": 0.6, "precision_20": precision,
            "success_50": 0.7, "norm_precision": 0.65, "fps": 80.0, "per_sequence": {},
            "per_attribute": {a: {"auc": 0.5, "precision_20": 0.6, "sequences": 1} for a in attrs}}


def _train_run(path: Path, curated: Path, world_size: int) -> None:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"data_path": str(curated)}))
    (path / "summary.json").write_text(json.dumps({
        "run_dir": str(path), "epochs": 2, "final_loss": 0.3, "final_val_loss": 0.4, "pairs_per_s": 20.0 * world_size,
        "seconds": 60.0, "device": "cpu", "device_name": "cpu (x86_64, 2 threads)", "precision": "fp32",
        "batch_size": 8, "world_size": world_size, "width": 0.25}))
    (path / "metrics.csv").write_text(
        "kind,epoch,step,loss,val_loss,lr,pairs_per_s,seconds\n"
        "step,1,10,0.5,,0.01,19.0,30\nepoch,1,10,0.5,0.55,0.01,19.0,30\nepoch,2,20,0.3,0.4,0.001,21.0,60\n")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Embedded (synthetic) data, a 1-process run that was evaluated and a 2-process run that was not."""
    tmp = tmp_path_factory.mktemp("runs")
    vid, otb, curated = tmp / "data" / "ILSVRC2015", tmp / "data" / "OTB", tmp / "data" / "CURATION"
    for folder in (vid, otb / "Synth01", curated):
        folder.mkdir(parents=True)
    (vid / "SYNTHETIC.json").write_text("{}")
    (otb / "SYNTHETIC.json").write_text("{}")
    (curated / "manifest.json").write_text(json.dumps({"format": "siamfc-curation/1", "videos": [],
                                                       "source": str(vid), "skipped": {}}, separators=(",", ":")))
    _train_run(tmp / "train_1p", curated, 1)
    _train_run(tmp / "train_2p", curated, 2)
    ev = tmp / "eval"
    ev.mkdir()
    reports = {"SiamFC": _report("SiamFC", 0.843), "CSRT": _report("CSRT", 0.845)}
    (ev / "reports.json").write_text(json.dumps(reports))
    curve = {"success_curve": np.linspace(1, 0, 21).tolist(), "precision_curve": np.linspace(0, 1, 51).tolist()}
    (ev / "curves.json").write_text(json.dumps({k: curve for k in reports}))
    write_eval_info(ev, otb, "cpu", "cpu (x86_64, 2 threads)", tmp / "train_1p")
    return tmp


def test_labels_of_data_sets(runs, tmp_path):
    assert dataset_label(runs / "data" / "OTB") == EMBEDDED_OTB
    for i in range(98):
        (tmp_path / f"Seq{i}").mkdir()
    assert dataset_label(tmp_path) == OTB2015
    assert training_data_label(runs / "train_1p") == "embedded VID-format (synthetic)"


def test_seed_table_gives_a_number_only_to_evaluated_runs(runs):
    summary, _, _ = build_summary([str(runs / "train_1p"), str(runs / "train_2p")], [str(runs / "eval")])
    ours = {r["name"]: r for r in summary["seed_comparison"] if r["measured_here"]}
    assert ours["ours: train_1p"]["precision"] == 0.843
    assert ours["ours: train_1p"]["data"] == f"embedded VID-format (synthetic) -> {EMBEDDED_OTB}"
    assert ours["ours: train_2p"]["precision"] is None
    assert "not evaluated" in ours["ours: train_2p"]["data"]
    rows = {r["tracker"]: r for r in summary["evaluation"]}
    assert rows["SiamFC"]["dataset"] == EMBEDDED_OTB and rows["SiamFC"]["device"] == "cpu (x86_64, 2 threads)"
    assert rows["CSRT"]["device"] == "CPU (OpenCV)"


@pytest.mark.notebooks
def test_report_html_has_no_code_a_title_and_labelled_tables(runs, tmp_path):
    executed = tmp_path / "06_results.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks" / "06_results.ipynb"), str(executed), kernel_name="python3",
                               cwd=str(ROOT), progress_bar=False, parameters={
                                   "train_dirs": [str(runs / "train_1p"), str(runs / "train_2p")],
                                   "eval_dirs": [str(runs / "eval")], "out_dir": str(tmp_path / "results")})
    html = export_report(executed, tmp_path, "demo").read_text()
    assert re.search(r"<title>SiamFC reproduction: results report \(demo profile\)</title>", html)
    assert "write_report(" not in html and "hl-ipython3" not in html    # no code cell shown
    assert "PosixPath" not in html and "{&#39;" not in html and "{'" not in html   # no raw reprs or dicts
    assert "<td>CPU cores</td>" in html and "<td>CPU</td>" in html       # the machine, its CPU, as a table
    assert "No description has been provided" not in html              # every figure has its alt text
    assert "summary: " not in html and "Reads the training run folders" not in html   # a report, not a notebook
    assert html.count(EMBEDDED_OTB) >= 3 and "CPU (OpenCV)" in html     # data set and device on the tables
    assert "Illumination Variation (IV)" in html and "Occlusion (OCC)" in html
    seed_2p = re.search(r"<tr>\s*<td>ours: train_2p</td>\s*<td>(.*?)</td>", html)
    assert seed_2p and seed_2p.group(1) == "-"
    assert (tmp_path / "report.html").stat().st_mode & 0o044 == 0o044   # readable by others, like any file


def test_html_shows_the_viewer_png_not_a_cdn_widget(tmp_path):
    """papermill saves widget state; nbconvert would then draw the widget with CDN JavaScript (blank offline)."""
    import base64

    import nbformat

    from siamfc_lib.pipeline import export_html

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 32).decode()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("display(viewer)")
    cell.outputs = [nbformat.v4.new_output("display_data", {
        "application/vnd.jupyter.widget-view+json": {"model_id": "m1", "version_major": 2, "version_minor": 0},
        "image/png": png, "text/plain": "Response viewer"})]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"m1": {"model_name": "VBoxModel", "model_module": "@jupyter-widgets/controls",
                         "model_module_version": "2.0.0", "state": {}}}, "version_major": 2, "version_minor": 0}}
    path = tmp_path / "05_eval_otb.ipynb"
    nbformat.write(nb, path)
    old_umask = os.umask(0o022)   # the usual umask: a file written as open() would is 0644, mkstemp's is 0600
    try:
        html = export_html(path).read_text()
    finally:
        os.umask(old_umask)
    assert f'src="data:image/png;base64,{png}"' in html
    assert '<script type="application/vnd.jupyter.widget-view+json">' not in html
    assert path.with_suffix(".html").stat().st_mode & 0o777 == 0o644


def test_report_lists_tracked_videos_and_notes_a_missing_one(runs, tmp_path):
    """06 shows 07's runs (video_dirs); a folder 07 has not written is a note, not an error."""
    from siamfc_lib.reporting.report import write_report
    from siamfc_lib.reporting.tracked_videos import load_tracked_videos

    video_dir = tmp_path / "video" / "Board"
    video_dir.mkdir(parents=True)
    (video_dir / "summary.json").write_text(json.dumps({
        "video": "outputs/demo/video/Board.mp4", "frames_tracked": 57, "fps_tracker": 40.1, "fps_end_to_end": 35.2,
        "device": "cpu", "confidence": {"frames_likely_lost": 9}, "codec": "libx264",
        "files": {"video": "tracked.mp4", "poster": "poster.jpg"}}))
    videos, missing = load_tracked_videos([str(video_dir), str(tmp_path / "never")])
    assert [v["paths"]["video"] for v in videos] == [video_dir / "tracked.mp4"] and missing == [str(tmp_path / "never")]
    summary, _ = write_report([str(runs / "train_1p")], [str(runs / "eval")], tmp_path / "results",
                              [str(video_dir), str(tmp_path / "never")])
    assert summary["tracked_videos"] == [{"video": "Board.mp4", "frames": 57, "fps_tracker": 40.1,
                                          "fps_end_to_end": 35.2, "device": "cpu", "likely_lost": 9,
                                          "codec": "libx264", "out_dir": str(video_dir)}]
