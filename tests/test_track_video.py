"""The tracker on a user's video: the OTB runner's boxes on the same frames (command line and notebook
alike), its outputs, every bad input's message, an interrupted run, and memory flat in the length."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from otb_fixtures import write_sequence
from siamfc_lib.data.otb import OTBDataset
from siamfc_lib.data.video import VideoError
from siamfc_lib.evaluation.engine import run_tracker
from siamfc_lib.evaluation.results import result_path
from siamfc_lib.track import main as track_main
from siamfc_lib.tracking.tracker import SiamFCTracker
from siamfc_lib.training.checkpoints import load_model_from_checkpoint
from siamfc_lib.video.render import render_sequence
from siamfc_lib.video.run import track_video
from video_fixtures import tiny_checkpoint, write_video

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def otb(tmp_path_factory):
    """An OTB-format sequence, the OTB runner's result on it, a lossless video of it and a checkpoint."""
    base = tmp_path_factory.mktemp("video")
    gt = write_sequence(base / "OTB", "Walker", 12, digits=5)
    checkpoint = tiny_checkpoint(base / "run")
    sequence = OTBDataset(base / "OTB")["Walker"]
    tracker = SiamFCTracker(load_model_from_checkpoint(checkpoint), device="cpu")
    run_tracker(tracker, [sequence], base / "eval")
    video = render_sequence(sequence, base / "Walker.mkv", fps=25, lossless=True)
    return {"base": base, "gt": gt, "checkpoint": checkpoint, "sequence": sequence, "video": video,
            "expected": result_path(base / "eval", "SiamFC", "Walker").read_bytes()}


def _params(otb, out: Path, **kw) -> dict:
    return {"video": str(otb["video"]), "box": otb["gt"][0].tolist(), "checkpoint": str(otb["checkpoint"]),
            "out_dir": str(out), "device": "cpu", **kw}


def test_video_and_image_folder_give_the_otb_runners_boxes(otb, tmp_path):
    run = track_video(_params(otb, tmp_path / "video"), log=lambda s: None)
    assert (tmp_path / "video" / "boxes.txt").read_bytes() == otb["expected"]
    folder = otb["base"] / "OTB" / "Walker" / "img"
    track_video(_params(otb, tmp_path / "images", video=str(folder), write_video=False), log=lambda s: None)
    assert (tmp_path / "images" / "boxes.txt").read_bytes() == otb["expected"]
    assert run.video.name == "tracked.mp4" and run.codec == "libx264"
    assert not (tmp_path / "images" / "tracked.mp4").exists()


def test_command_line_gives_the_same_boxes(otb, tmp_path, capsys):
    box = ",".join(f"{v:g}" for v in otb["gt"][0])
    assert track_main([str(otb["video"]), "--box", box, "--checkpoint", str(otb["checkpoint"]),
                       "--out", str(tmp_path), "--device", "cpu", "--no-video"]) == 0
    assert (tmp_path / "boxes.txt").read_bytes() == otb["expected"]
    assert "frames/s tracker" in capsys.readouterr().out


def test_outputs_record_scores_rates_and_the_annotated_video(otb, tmp_path):
    run = track_video(_params(otb, tmp_path, start_frame=2, max_frames=6), log=lambda s: None)
    rows = np.genfromtxt(tmp_path / "scores.csv", delimiter=",", names=True)
    assert rows.dtype.names == ("frame", "time_s", "x", "y", "w", "h", "score", "relative", "sharpness", "scale",
                                "lost")
    np.testing.assert_array_equal(rows["frame"], np.arange(2, 8))
    np.testing.assert_allclose(rows["time_s"], np.arange(2, 8) / 25, atol=1e-4)  # the source's clock
    np.testing.assert_allclose(rows["score"][1:], run.trace.scores, atol=1e-4)
    np.testing.assert_allclose(rows["relative"][1:], np.array(run.trace.scores) / run.trace.reference, atol=1e-4)
    np.testing.assert_array_equal(rows["lost"][1:], run.trace.relative < 0.4)
    boxes = np.loadtxt(tmp_path / "boxes.txt", delimiter=",")
    np.testing.assert_allclose(rows["scale"], np.sqrt(boxes[:, 2] * boxes[:, 3] / (boxes[0, 2] * boxes[0, 3])),
                               atol=1e-4)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frames_tracked"] == 6 and summary["first_frame"] == 2 and summary["codec"] == "libx264"
    assert summary["fps_tracker"] > 0 and summary["fps_end_to_end"] > 0
    from siamfc_lib.data.video import open_video

    written = open_video(tmp_path / "tracked.mp4")
    assert written.info.frames == 6 and written.info.codec == "h264"
    assert (tmp_path / "poster.jpg").stat().st_size > 0 and (tmp_path / "confidence.png").stat().st_size > 0
    assert run.viewer is not None and run.viewer.frame_number(0) == 3 and run.viewer.gt is None


@pytest.mark.parametrize("case, message", [
    ("missing", r"video: .*nothere\.mp4 does not exist"),
    ("unreadable", r"cannot read .*junk\.mp4 as a video: FFmpeg says"),
    ("empty_folder", r"holds no images"),
    ("past_the_end", r"start_frame 40 is past the end of .*: it has 12 frame\(s\)"),
    ("zero_size", r"box \[3\.0, 4\.0, 0\.0, 10\.0\] has zero or negative size"),
    ("outside", r"box \[500\.0, 20\.0, 30\.0, 30\.0\] lies outside frame 0 \(128x96 pixels\): its centre must be "
                r"inside, with x from 1 to 128 and y from 1 to 96"),
    ("no_box", r"box is None and nobody can draw it here .* -p box \"\[x, y, w, h\]\""),
    ("bad_box", r"box must be four numbers x, y, w, h, got '1,2,3'"),
])
def test_bad_input_is_one_clear_error(otb, tmp_path, case, message):
    params = _params(otb, tmp_path / "out")
    if case == "missing":
        params["video"] = str(tmp_path / "nothere.mp4")
    elif case == "unreadable":
        (tmp_path / "junk.mp4").write_bytes(b"\x00garbage" * 100)
        params["video"] = str(tmp_path / "junk.mp4")
    elif case == "empty_folder":
        (tmp_path / "frames").mkdir()
        params["video"] = str(tmp_path / "frames")
    elif case == "past_the_end":
        params["start_frame"] = 40
    elif case in ("zero_size", "outside", "bad_box"):
        params["box"] = {"zero_size": [3, 4, 0, 10], "outside": [500, 20, 30, 30], "bad_box": "1,2,3"}[case]
    else:
        from siamfc_lib.video.notebook import box_picker, first_frame

        params["box"] = None
        with pytest.raises(ValueError, match=message):
            box_picker(params, first_frame(params))
        return
    with pytest.raises((VideoError, ValueError, FileNotFoundError), match=message):
        track_video(params, log=lambda s: None)
    assert not (tmp_path / "out" / "tracked.mp4").exists()


def test_command_line_errors_are_one_line_without_a_traceback(otb, tmp_path, capsys, monkeypatch):
    assert track_main([str(tmp_path / "nothere.mp4"), "--box", "1,2,3,4", "--checkpoint", "x", "--out",
                       str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: video: ")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(SystemExit, match=r"no --box given, and OpenCV's box selector cannot open: there is no "
                                         r"display.*Pass --box x,y,w,h"):
        track_main([str(otb["video"]), "--checkpoint", str(otb["checkpoint"]), "--out", str(tmp_path)])


def test_without_box_opens_opencvs_selector_where_there_is_a_display(otb, tmp_path, monkeypatch, capsys):
    import cv2

    from siamfc_lib import track

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(cv2, "getBuildInformation", lambda: "  GUI:                           GTK3\n")
    drawn = {}

    def select(title, image, showCrosshair, fromCenter):       # noqa: N803 - OpenCV's names
        drawn["shape"] = image.shape
        x, y, w, h = (int(v) for v in otb["gt"][0])
        return (x - 1, y - 1, w, h)                              # OpenCV's 0-based rectangle

    monkeypatch.setattr(cv2, "selectROI", select)
    monkeypatch.setattr(cv2, "destroyWindow", lambda title: None)
    assert track.main([str(otb["video"]), "--checkpoint", str(otb["checkpoint"]), "--out", str(tmp_path),
                       "--device", "cpu", "--no-video"]) == 0
    assert drawn["shape"] == (96, 128, 3)
    assert (tmp_path / "boxes.txt").read_bytes() == otb["expected"]
    assert "--box " + ",".join(f"{v:g}" for v in otb["gt"][0]) in capsys.readouterr().out


def test_an_interrupted_run_leaves_no_video_under_its_name(otb, tmp_path):
    calls = []

    def interrupt(frame, box, relative, lost):
        calls.append(frame.index)
        if len(calls) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        track_video(_params(otb, tmp_path), on_frame=interrupt, log=lambda s: None)
    assert [p.name for p in tmp_path.iterdir()] == []          # no video, no hidden partial, no half a result


def test_stopping_early_keeps_what_was_tracked(otb, tmp_path):
    run = track_video(_params(otb, tmp_path), on_frame=lambda f, b, r, lost: f.index < 4, log=lambda s: None)
    assert len(run.boxes) == 5
    expected = otb["expected"].decode().splitlines()[:5]
    assert (tmp_path / "boxes.txt").read_text().splitlines() == expected


PEAK_RSS_SCRIPT = """
import json, sys, torch
from siamfc_lib.model import build_model
from siamfc_lib.video.run import track_video

def peak_mb():   # VmHWM, this process image's peak (ru_maxrss would keep the forking parent's across exec)
    return int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]) / 1024

peaks = {}
def sample(frame, box, relative, lost):
    if frame.index == 150:
        peaks['after_150'] = peak_mb()
torch.manual_seed(0)
track_video(dict(video=sys.argv[1], box=[600, 300, 80, 60], out_dir=sys.argv[2], device='cpu', viewer_frames=0),
            model=build_model(width=0.125), log=lambda s: None, on_frame=sample)
peaks['after_300'] = peak_mb()
print(json.dumps(peaks))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_peak_memory_does_not_grow_with_the_videos_length(tmp_path):
    """A 300-frame 1280x720 video tracked (and the annotated video written) in a fresh process: the peak
    RSS after all 300 frames is the peak after the first 150 (a frame kept per step would add 2.7 MB
    each, 400 MB over the second half). The peak settles within about 120 frames (encoder and
    allocator warm-up, measured), hence the comparison from frame 150 on."""
    import cv2
    from skimage import data

    scene = cv2.resize(data.astronaut(), (1280, 720))        # a photograph: encodes as fast as real footage
    video = write_video(tmp_path / "long.mp4", (np.roll(scene, 4 * i, axis=1) for i in range(301)), fps=30)
    out = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT, str(video), str(tmp_path / "out")], check=True,
                         capture_output=True, text=True, cwd=ROOT)
    peaks = json.loads(out.stdout.strip().splitlines()[-1])
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["frames_tracked"] == 301
    assert peaks["after_300"] - peaks["after_150"] < 30, peaks


@pytest.mark.notebooks
@pytest.mark.slow
def test_notebook_gives_the_same_boxes_with_the_box_as_papermill_passes_it(otb, tmp_path):
    """``papermill 07_track_video.ipynb out.ipynb -p video V -p box "[x, y, w, h]" -p checkpoint CK``."""
    box = "[" + ", ".join(f"{v:g}" for v in otb["gt"][0]) + "]"
    cmd = [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "07_track_video.ipynb"),
           str(tmp_path / "out.ipynb"), "-p", "video", str(otb["video"]), "-p", "box", box,
           "-p", "checkpoint", str(otb["checkpoint"]), "-p", "out_dir", str(tmp_path / "nb"), "-p", "device", "cpu",
           "--cwd", str(ROOT)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert (tmp_path / "nb" / "boxes.txt").read_bytes() == otb["expected"]
    executed = json.loads((tmp_path / "out.ipynb").read_text())
    text = json.dumps(executed)
    assert "python -m siamfc_lib.track" in text and "<video" in text
