"""Curation: hand-computed crop geometry, oddities reported not fatal, kill -9 and resume."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from siamfc_lib.config import CurateConfig, build
from siamfc_lib.data.curate import curate, format_summary, instance_crop, instance_region
from siamfc_lib.data.manifest import MANIFEST_FILE, Manifest
from siamfc_lib.data.vid import VidFormatError
from vid_fixtures import legacy_manifest_json, make_small_root, moving_track, write_video

ROOT = Path(__file__).resolve().parents[1]
TOP_LEFT, REST = (40, 80, 120), (200, 200, 200)


def _quadrant_image() -> np.ndarray:
    """100x80 BGR: the top-left 50x40 quadrant TOP_LEFT, the rest REST; mean (160, 170, 180)."""
    img = np.full((80, 100, 3), REST, np.uint8)
    img[:40, :50] = TOP_LEFT
    return img


def test_instance_crop_matches_a_hand_computed_border_case():
    # Box corners (0, 0, 31, 31): w = h = 32, centre (15.5, 15.5), touching the top-left corner.
    # p = 0.5 (32 + 32) = 32, s_z = sqrt(64 * 64) = 64, s_x = 64 * 255 / 127, so the crop scale
    # 255 / s_x = 127 / 64 = 1.984375 and crop u = 127 + (x - 15.5) * 1.984375.
    cfg = CurateConfig()
    cx, cy, s_x = instance_region([0, 0, 31, 31], 0.5, 127, 255)
    assert (cx, cy) == (15.5, 15.5) and s_x == pytest.approx(64 * 255 / 127)
    crop, inside = instance_crop(_quadrant_image(), [0, 0, 31, 31], cfg)
    assert crop.shape == (255, 255, 3)
    # The box: centre 127, side 32 * 1.984375 = 63.5, edges 95.25 .. 158.75.
    assert inside == [127.0, 127.0, 63.5, 63.5]
    # Image outer edge x = -0.5 -> u = 95.25. Bilinear sampling is pure padding while x <= -1,
    # i.e. u <= 127 - 16.5 * 1.984375 = 94.26: rows and columns 0..94 are the mean colour.
    mean = np.array([160, 170, 180])
    assert np.abs(crop[:95].astype(int) - mean).max() <= 1
    assert np.abs(crop[:, :95].astype(int) - mean).max() <= 1
    # u = 96 -> x = -0.12: a blend of padding and the image, neither one nor the other.
    assert 40 < crop[120, 96, 0] < 160
    # Inside the box (u 97..158 -> x 0.38..31.1) the source is the TOP_LEFT quadrant.
    assert (crop[97:159, 97:159] == TOP_LEFT).all()
    # x = 50 (the quadrant edge) -> u = 127 + 34.5 * 1.984375 = 195.5: REST to its right.
    assert (crop[97:159, 197:] == REST).all()


def test_curated_file_name_geometry_and_padding_on_disk(tmp_path):
    vid, out = tmp_path / "vid", tmp_path / "cur"
    data_dir, _ = write_video(vid, "val", "ILSVRC2015_val_00000007", {
        f: [{"trackid": 3, "box": (0, 0, 31, 31)}] for f in (0, 1)}, size=(100, 80))
    for f in (0, 1):
        cv2.imwrite(str(data_dir / f"{f:06d}.JPEG"), _quadrant_image(), [cv2.IMWRITE_JPEG_QUALITY, 100])
    summary = curate(CurateConfig(vid_root=str(vid), data_path=str(out), workers=1, jpeg_quality=95))
    assert summary["crops"] == 2 and summary["skipped"] == {}
    crop = cv2.imread(str(out / "ILSVRC2015_val_00000007" / "000001.03.x.jpg"))
    assert crop.shape == (255, 255, 3)
    assert np.abs(crop[:90, :90].astype(int) - [160, 170, 180]).max() <= 6
    assert np.abs(crop[100:155, 100:155].astype(int) - TOP_LEFT).max() <= 6
    manifest = Manifest.load(out)
    (video,) = manifest.videos
    assert (video.video, video.subset, video.frame_size) == ("ILSVRC2015_val_00000007", "val", [100, 80])
    assert video.tracks[0].crop_boxes == [[127.0, 127.0, 63.5, 63.5]] * 2
    assert video.tracks[0].boxes == [[0.0, 0.0, 31.0, 31.0]] * 2


def test_bad_jpegs_are_reported_not_fatal(tmp_path):
    vid, out = tmp_path / "vid", tmp_path / "cur"
    frames = moving_track(5, 0)
    frames[1].append({"trackid": 1, "box": (40, 30, 50, 40)})
    frames[2].append({"trackid": 1, "box": (40, 30, 50, 40)})
    frames[3] = frames[3] + [{"trackid": 2, "box": (30, 30, 33, 33)}]
    frames[4] = frames[4] + [{"trackid": 2, "box": (30, 30, 33, 33)}]
    data_dir, _ = write_video(vid, "train", "ILSVRC2015_train_00000000", frames)
    (data_dir / "000001.JPEG").write_bytes(b"not a jpeg at all")             # corrupt
    jpeg = (data_dir / "000002.JPEG").read_bytes()
    (data_dir / "000002.JPEG").write_bytes(jpeg[: len(jpeg) // 2])           # truncated
    (data_dir / "000004.JPEG").unlink()                                      # missing
    summary = curate(CurateConfig(vid_root=str(vid), data_path=str(out), workers=1))
    assert summary["skipped"] == {"frame.corrupt_jpeg": 2, "frame.missing_jpeg": 1, "track.too_short": 2}
    (video,) = Manifest.load(out).videos
    assert [(t.trackid, t.frames) for t in video.tracks] == [(0, [0, 3])]
    assert sorted(p.name for p in (out / video.video).iterdir()) == ["000000.00.x.jpg", "000003.00.x.jpg"]
    rows = [line.split() for line in format_summary(summary).splitlines()]
    assert ["skipped", "frame.corrupt_jpeg", "2"] in rows and ["crops", "2"] in rows


def test_a_root_with_nothing_usable_is_a_clear_error(tmp_path):
    write_video(tmp_path / "vid", "val", "ILSVRC2015_val_00000000", {0: [], 1: []})
    with pytest.raises(VidFormatError, match="no usable track.*frame.no_objects"):
        curate(CurateConfig(vid_root=str(tmp_path / "vid"), data_path=str(tmp_path / "c"), workers=1))
    with pytest.raises(VidFormatError, match="expected"):
        curate(CurateConfig(vid_root=str(tmp_path / "nothing"), data_path=str(tmp_path / "c"), workers=1))


def test_unknown_parameter_is_rejected():
    with pytest.raises(ValueError, match="jpeg_qualty"):
        build(CurateConfig, {"jpeg_qualty": 80})


def _tree(folder: Path) -> dict[str, bytes]:
    """Every output file except the per-video resume records (they hold timings)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".records" not in p.parts}


@pytest.fixture(scope="module")
def big_root(tmp_path_factory) -> Path:
    return make_small_root(tmp_path_factory.mktemp("vid"), videos=14, frames=24, size=(320, 240))


@pytest.fixture(scope="module")
def reference(big_root, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref") / "cur"
    summary = curate(CurateConfig(vid_root=str(big_root), data_path=str(out), workers=1))
    assert summary["crops"] == 14 * 24 * 2 + 24 and summary["videos"] == 15
    return _tree(out)


CHILD = ("import sys; from siamfc_lib.config import CurateConfig; from siamfc_lib.data.curate import curate;"
         "curate(CurateConfig(vid_root=sys.argv[1], data_path=sys.argv[2], workers=2), progress=False)")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(condition, timeout=60.0):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "child never reached the kill point"
        time.sleep(0.005)


@pytest.mark.faults
@pytest.mark.parametrize("kill_point,whole_group", [("first_crop", True), ("three_videos", False)])
def test_kill_9_then_rerun_gives_the_uninterrupted_output(big_root, reference, tmp_path, kill_point, whole_group):
    out = tmp_path / "cur"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(big_root), str(out)], cwd=ROOT,
                             start_new_session=True, stdout=subprocess.DEVNULL)
    records = out / ".records"
    if kill_point == "first_crop":
        _wait_for(lambda: any(out.glob("*/*.jpg")))
    else:
        _wait_for(lambda: records.is_dir() and len(list(records.glob("*.json"))) >= 3)
    os.killpg(child.pid, signal.SIGKILL) if whole_group else child.send_signal(signal.SIGKILL)
    child.wait()
    _wait_for(lambda: not _group_alive(child.pid), timeout=10.0)  # workers die with their parent
    assert not (out / MANIFEST_FILE).exists(), "the child finished before the kill: nothing was tested"
    done_before = len(list(records.glob("*.json"))) if records.is_dir() else 0
    summary = curate(CurateConfig(vid_root=str(big_root), data_path=str(out), workers=2), progress=False)
    assert summary["videos_resumed"] == done_before < 15
    assert _tree(out) == reference
    again = curate(CurateConfig(vid_root=str(big_root), data_path=str(out), workers=2), progress=False)
    assert again["videos_curated"] == 0 and _tree(out) == reference


def test_changed_settings_redo_every_video(big_root, tmp_path):
    out = tmp_path / "cur"
    cfg = CurateConfig(vid_root=str(big_root), data_path=str(out), workers=1, subsets=("val",))
    curate(cfg)
    first = (out / "ILSVRC2015_val_00000000" / "000000.00.x.jpg").read_bytes()
    cfg.jpeg_quality = 50
    summary = curate(cfg)
    assert summary["videos_curated"] == 1
    assert len((out / "ILSVRC2015_val_00000000" / "000000.00.x.jpg").read_bytes()) < len(first)
    assert Manifest.load(out).jpeg_quality == 50


def test_a_rerun_with_nothing_to_do_reads_no_record_and_an_old_folder_is_finished(big_root, reference, tmp_path,
                                                                                    monkeypatch):
    import siamfc_lib.data.curate as curate_mod

    out = tmp_path / "cur"
    cfg = CurateConfig(vid_root=str(big_root), data_path=str(out), workers=1)
    curate(cfg, progress=False)
    manifest = Manifest.load(out)
    # A folder curated before the columnar manifest: manifest.json and the records, no columns.
    (out / MANIFEST_FILE).unlink()
    (out / "manifest.json").write_text(legacy_manifest_json(manifest))
    summary = curate(cfg, progress=False)
    assert summary["videos_curated"] == 0 and summary["videos_resumed"] == 15
    assert (out / MANIFEST_FILE).read_bytes() == reference[MANIFEST_FILE]

    def no_records(*_):
        raise AssertionError("a rerun with nothing to do read a record")

    monkeypatch.setattr(curate_mod, "_load_record", no_records)
    again = curate(cfg, progress=False)
    assert again["videos_curated"] == 0 and again["crops"] == manifest.num_crops() and again["bytes"] > 0
    monkeypatch.undo()
    cfg.subsets = ("train",)   # other videos: the records are read again, the kept ones reused
    fewer = curate(cfg, progress=False)
    assert fewer["videos_curated"] == 0 and fewer["videos"] == 14
