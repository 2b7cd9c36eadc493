"""Bad inputs into the existing library: every one answered with a message naming the file
and the problem (line, key), and nothing half-written left behind (issue #9)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ helpers (vid_fixtures, otb_fixtures)

from otb_fixtures import write_sequence  # noqa: E402
from vid_fixtures import make_small_root, moving_track, write_video  # noqa: E402

from siamfc_lib.config import ConfigError, CurateConfig, LmdbConfig, TrainConfig, build, load_params, preset  # noqa: E402
from siamfc_lib.data.crop_store import LmdbStore, default_lmdb_path  # noqa: E402
from siamfc_lib.data.curate import curate  # noqa: E402
from siamfc_lib.data.lmdb_pack import pack_lmdb, verify_lmdb  # noqa: E402
from siamfc_lib.data.manifest import Manifest  # noqa: E402
from siamfc_lib.data.otb import OTBDataset, OTBFormatError, parse_groundtruth  # noqa: E402
from siamfc_lib.data.vid import VideoRef, find_videos, parse_frame_xml, read_video  # noqa: E402
from siamfc_lib.devices import DeviceError, resolve_device  # noqa: E402

pytestmark = pytest.mark.faults
ROOT = Path(__file__).resolve().parents[2]
VIDEO = "ILSVRC2015_train_00000000"


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files anywhere under ``folder`` (what a crash or an error must not leave)."""
    bad = []
    for p in folder.rglob("*"):
        name = p.name
        if name.endswith((".tmp", ".part", ".partial")) or name.startswith(".") and name.endswith(".tmp"):
            bad.append(str(p.relative_to(folder)))
    return sorted(bad)


# --------------------------------------------------------------------------------------------
# VID frames: truncated and non-JPEG images are reported (named) and skipped by curation
# --------------------------------------------------------------------------------------------

def _jpeg_bytes(size=(64, 48), frame=0) -> bytes:
    from vid_fixtures import frame_image

    ok, buf = cv2.imencode(".jpg", frame_image(size, frame))
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("damage", ["truncated", "png_named_jpeg", "text", "empty", "header_only"])
def test_bad_vid_frame_is_named_and_skipped_by_curation(tmp_path, damage):
    vid, out = tmp_path / "vid", tmp_path / "cur"
    data_dir, _ = write_video(vid, "train", VIDEO, moving_track(4, 0))
    victim = data_dir / "000002.JPEG"
    good = victim.read_bytes()
    victim.write_bytes({
        "truncated": good[: len(good) * 2 // 3],
        "png_named_jpeg": cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes(),
        "text": b"this is not an image\n" * 20,
        "empty": b"",
        "header_only": good[:200],
    }[damage])
    lines: list[str] = []
    summary = curate(CurateConfig(vid_root=str(vid), data_path=str(out), workers=1), progress=False, log=lines.append)
    # A PNG under a .JPEG name is refused too: ILSVRC frames are JPEGs, and the end-marker check
    # cannot tell a PNG from a truncated JPEG.
    assert summary["skipped"] == {"frame.corrupt_jpeg": 1}, summary["skipped"]
    assert summary["crops"] == 3
    named = [line for line in lines if "000002.JPEG" in line]
    assert named and "corrupt_jpeg" in named[0], lines
    (video,) = Manifest.load(out).videos
    assert video.tracks[0].frames == [0, 1, 3]
    assert not (out / VIDEO / "000002.00.x.jpg").exists()
    record = json.loads((out / ".records" / f"{VIDEO}.json").read_text())
    assert record["problems"] == [[str(victim), "frame.corrupt_jpeg"]]
    assert leftovers(out) == []


# --------------------------------------------------------------------------------------------
# VID XML: malformed, empty, missing fields, non-numeric, negative / zero-size boxes
# --------------------------------------------------------------------------------------------

OBJ = ("<object><trackid>{tid}</trackid><name>n02084071</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
       "<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox><occluded>0</occluded><generated>0</generated></object>")
SIZE = "<size><width>64</width><height>48</height></size>"
GOOD_OBJ = OBJ.format(tid=0, x0=10, y0=8, x1=29, y1=23)

BAD_XML = {
    # name: (text, words the message must contain)
    "truncated": (f"<annotation>{SIZE}<object><trackid>0</track", ["unclosed token"]),
    "empty": ("", ["no element found"]),
    "binary": ("\x00\x01\x02garbage", ["not well-formed"]),
    "not_annotation": (f"<other>{SIZE}</other>", ["<annotation><size>"]),
    "no_size": (f"<annotation>{GOOD_OBJ}</annotation>", ["<annotation><size>"]),
    "no_width": ("<annotation><size><height>48</height></size></annotation>", ["<width>"]),
    "no_bndbox": (f"<annotation>{SIZE}<object><trackid>0</trackid><name>n02084071</name></object></annotation>",
                  ["<bndbox>"]),
    "no_name": (f"<annotation>{SIZE}<object><trackid>0</trackid><bndbox><xmin>1</xmin></bndbox></object>"
                "</annotation>", ["<name>"]),
    "no_trackid": (f"<annotation>{SIZE}" + GOOD_OBJ.replace("<trackid>0</trackid>", "") + "</annotation>",
                   ["<trackid>"]),
    "no_ymax": (f"<annotation>{SIZE}" + GOOD_OBJ.replace("<ymax>23</ymax>", "") + "</annotation>", ["<ymax>"]),
    "non_numeric": (f"<annotation>{SIZE}" + OBJ.format(tid=0, x0="ten", y0=8, x1=29, y1=23) + "</annotation>",
                    ["'ten'"]),
    "empty_coordinate": (f"<annotation>{SIZE}" + GOOD_OBJ.replace("<xmin>10</xmin>", "<xmin></xmin>")
                         + "</annotation>", ["<xmin>"]),
    "infinite": (f"<annotation>{SIZE}" + OBJ.format(tid=0, x0="inf", y0=8, x1=29, y1=23) + "</annotation>",
                 ["infinity"]),
    "nan": (f"<annotation>{SIZE}" + OBJ.format(tid=0, x0="nan", y0=8, x1=29, y1=23) + "</annotation>", ["NaN"]),
    "huge_width": ("<annotation><size><width>1e999</width><height>48</height></size></annotation>", ["infinity"]),
    "unknown_encoding": ('<?xml version="1.0" encoding="klingon"?><annotation/>', ["klingon"]),
    "bad_occluded": (f"<annotation>{SIZE}" + GOOD_OBJ.replace("<occluded>0", "<occluded>yes") + "</annotation>",
                     ["'yes'"]),
    "non_numeric_trackid": (f"<annotation>{SIZE}" + OBJ.format(tid="a", x0=1, y0=1, x1=9, y1=9) + "</annotation>",
                            ["'a'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_XML))
def test_malformed_xml_raises_value_error_naming_file_and_problem(tmp_path, case):
    text, words = BAD_XML[case]
    path = tmp_path / "000007.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        parse_frame_xml(path)
    message = str(info.value)
    assert message.startswith(f"{path}:"), message
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"


def test_malformed_xml_frames_are_counted_named_and_not_fatal(tmp_path):
    """One snippet with every kind of bad XML among good frames: curation keeps the good ones."""
    vid, out = tmp_path / "vid", tmp_path / "cur"
    data_dir, anno_dir = write_video(vid, "train", VIDEO, moving_track(len(BAD_XML) + 3, 0), size=(200, 160))
    names = sorted(BAD_XML)
    for i, case in enumerate(names, start=2):
        (anno_dir / f"{i:06d}.xml").write_text(BAD_XML[case][0], encoding="utf-8")
    ref = find_videos(vid)[0]
    video = read_video(ref)
    assert video.skipped == {"frame.malformed_xml": len(names)}
    assert video.tracks[0].frames == [0, 1, len(names) + 2]
    assert [Path(f).name for f, _ in video.problems] == [f"{i:06d}.xml" for i in range(2, len(names) + 2)]
    lines: list[str] = []
    summary = curate(CurateConfig(vid_root=str(vid), data_path=str(out), workers=1), progress=False, log=lines.append)
    assert summary["skipped"] == {"frame.malformed_xml": len(names)} and summary["crops"] == 3
    named = [line for line in lines if "000002.xml" in line]
    assert named and "frame.malformed_xml" in named[0], lines
    assert any("more problem file" in line for line in lines), lines  # > 10 problems: a pointer to the rest
    assert leftovers(out) == []


@pytest.mark.parametrize("box,reason", [
    ((20, 10, 10, 30), "box.degenerate"),        # xmax < xmin: negative width
    ((20, 10, 19, 30), "box.degenerate"),        # xmax = xmin - 1: zero width
    ((5, 30, 15, 20), "box.degenerate"),         # negative height
    ((-50, -40, -10, -5), "box.outside_image"),  # negative coordinates, wholly outside
    ((100, 60, 120, 70), "box.outside_image"),
])
def test_negative_and_zero_size_boxes_are_counted_with_reasons(tmp_path, box, reason):
    frames = moving_track(3, 0)
    for f in frames:
        frames[f] = frames[f] + [{"trackid": 5, "box": box}]
    write_video(tmp_path, "val", "ILSVRC2015_val_00000001", frames)
    video = read_video(find_videos(tmp_path)[0])
    assert video.skipped == {reason: 3}
    assert [t.trackid for t in video.tracks] == [0]


def test_unreadable_xml_is_counted_not_fatal(tmp_path):
    frames = moving_track(3, 0)
    _, anno_dir = write_video(tmp_path, "val", "ILSVRC2015_val_00000001", frames)
    target = anno_dir / "000001.xml"
    target.unlink()
    target.mkdir()  # a folder where the file should be: reading it raises IsADirectoryError (OSError)
    video = read_video(VideoRef("ILSVRC2015_val_00000001", "val",
                                tmp_path / "Data/VID/val/ILSVRC2015_val_00000001", anno_dir))
    assert video.skipped == {"frame.malformed_xml": 1}
    assert video.problems and video.problems[0][0] == str(target)


# --------------------------------------------------------------------------------------------
# OTB ground truth and frames
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lines,line_no,words", [
    (["1,2,3,4", "1,2,3"], 2, ["expected 4 numbers", "got 3"]),
    (["1,2,3,4", "5,6,7,8", "1,2,3,4,5"], 3, ["got 5"]),
    (["1 2 3 4 5 6 7 8"], 1, ["got 8"]),          # VOT-style polygon
    (["1,2,3,4", "nan,2,3,4"], 2, ["NaN"]),
    (["1,2,3,4", "1,NaN,3,4"], 2, ["NaN"]),
    (["1,2,inf,4"], 1, ["infinite"]),
    (["1,2,3,4", "1;2;3;4"], 2, ["got 1"]),        # semicolons are not a delimiter
    (["1,2,3,4", "1,2,x,4"], 2, ["not a number"]),
])
def test_bad_groundtruth_lines_name_file_and_line(tmp_path, lines, line_no, words):
    path = tmp_path / "groundtruth_rect.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(OTBFormatError) as info:
        parse_groundtruth(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line_no}:"), message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("first", ["10,20,-5,8", "10,20,5,0", "10,20,0,0"])
def test_first_box_without_area_is_refused_naming_the_file(tmp_path, first):
    path = tmp_path / "groundtruth_rect.txt"
    path.write_text(first + "\n1,2,3,4\n")
    with pytest.raises(OTBFormatError, match="first box") as info:
        parse_groundtruth(path)
    assert str(path) in str(info.value)


def test_negative_sizes_after_the_first_line_are_kept_as_documented(tmp_path):
    path = tmp_path / "groundtruth_rect.txt"
    path.write_text("1,2,3,4\n5,6,-7,8\n0,0,0,0\n")
    np.testing.assert_array_equal(parse_groundtruth(path), [[1, 2, 3, 4], [5, 6, -7, 8], [0, 0, 0, 0]])


def test_blank_lines_and_mixed_delimiters_are_accepted(tmp_path):
    path = tmp_path / "groundtruth_rect.txt"
    path.write_text("\n1,2,3,4\r\n\n5\t6 7,8\n  9 ,\t10,11   12  \n\n\n13,14,15,16,\n")
    np.testing.assert_array_equal(parse_groundtruth(path), np.arange(1, 17, dtype=float).reshape(4, 4))


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_groundtruth_is_an_error_naming_the_file(tmp_path, content):
    path = tmp_path / "groundtruth_rect.txt"
    path.write_text(content)
    with pytest.raises(OTBFormatError, match="no ground-truth lines") as info:
        parse_groundtruth(path)
    assert str(path) in str(info.value)


def test_sequence_with_fewer_images_than_annotations(tmp_path):
    write_sequence(tmp_path, "Walker", 6)
    for n in (5, 6):
        (tmp_path / "Walker" / "img" / f"{n:04d}.jpg").unlink()
    ds = OTBDataset(tmp_path)
    with pytest.raises(OTBFormatError) as info:
        ds["Walker"]
    message = str(info.value)
    assert str(tmp_path / "Walker" / "groundtruth_rect.txt") in message
    assert "6 GT lines" in message and "2 are missing" in message and "5, 6" in message


def test_sequence_with_a_bad_gt_line_names_file_and_line_through_the_dataset(tmp_path):
    write_sequence(tmp_path, "Walker", 4, gt_lines=["1,2,3,4", "1,2,3,4", "", "1,2,3", "1,2,3,4"])
    with pytest.raises(OTBFormatError, match=r"groundtruth_rect\.txt:4: expected 4 numbers"):
        OTBDataset(tmp_path)["Walker"]


@pytest.mark.parametrize("damage", ["truncated", "text", "empty", "missing"])
def test_bad_otb_frame_raises_naming_the_file(tmp_path, damage):
    write_sequence(tmp_path, "Walker", 4)
    seq = OTBDataset(tmp_path)["Walker"]
    victim = seq.img_files[2]
    data = victim.read_bytes()
    if damage == "missing":
        victim.unlink()
    else:
        victim.write_bytes({"truncated": data[: len(data) // 2], "text": b"hello", "empty": b""}[damage])
    expected = FileNotFoundError if damage == "missing" else OTBFormatError
    with pytest.raises(expected) as info:
        seq.frame(2)
    assert str(victim) in str(info.value)
    if damage == "truncated":
        assert "truncated" in str(info.value)
    assert seq.frame(1).shape[2] == 3  # the good frames still read


def test_tracking_over_a_truncated_frame_raises_naming_it(tmp_path):
    from siamfc_lib.model import build_model
    from siamfc_lib.tracking.tracker import SiamFCTracker

    write_sequence(tmp_path, "Walker", 4)
    seq = OTBDataset(tmp_path)["Walker"]
    victim = seq.img_files[2]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    torch.manual_seed(0)
    tracker = SiamFCTracker(build_model(width=0.25).eval(), device="cpu")
    with pytest.raises(OTBFormatError) as info:
        tracker.track_frames(seq.img_files, seq.gt[0])
    assert str(victim) in str(info.value) and "truncated" in str(info.value)


# --------------------------------------------------------------------------------------------
# LMDB missing keys, missing crops, missing database
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("faults_lmdb")
    vid = make_small_root(base / "vid", videos=3, frames=5)
    curate(CurateConfig(vid_root=str(vid), data_path=str(base / "cur"), workers=1), progress=False, log=lambda *_: None)
    return base / "cur"


def _copy(curated: Path, tmp_path: Path) -> Path:
    data_path = tmp_path / "CUR"
    shutil.copytree(curated, data_path)
    return data_path


def test_lmdb_missing_key_is_named_with_the_lmdb(curated, tmp_path):
    import lmdb

    data_path = _copy(curated, tmp_path)
    report = pack_lmdb(LmdbConfig(data_path=str(data_path), keep_folder=True), progress=False, log=lambda *_: None)
    keys = sorted(Manifest.load(data_path).keys())
    victims = keys[3:5]
    env = lmdb.open(report["lmdb_path"])
    with env.begin(write=True) as txn:
        for key in victims:
            assert txn.delete(key.encode())
    env.close()
    check = verify_lmdb(data_path, report["lmdb_path"], keys)
    assert not check["verified"] and check["missing"] == 2 and check["missing_examples"] == victims
    store = LmdbStore(report["lmdb_path"])
    try:
        with pytest.raises(KeyError) as info:
            store.get(victims[0])
        assert victims[0] in str(info.value) and report["lmdb_path"] in str(info.value)
        assert store.get(keys[0]) == (data_path / keys[0]).read_bytes()
    finally:
        store.close()
    # The rerun repairs it (packs only what is missing) and verifies.
    again = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False, log=lambda *_: None)
    assert again["added"] == 2 and again["verified"]


def test_lmdb_corrupt_value_is_named_on_decode(curated, tmp_path):
    import lmdb

    data_path = _copy(curated, tmp_path)
    report = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False, log=lambda *_: None)
    key = sorted(Manifest.load(data_path).keys())[1]
    env = lmdb.open(report["lmdb_path"])
    with env.begin(write=True) as txn:
        txn.put(key.encode(), b"garbage")
    env.close()
    store = LmdbStore(report["lmdb_path"])
    try:
        with pytest.raises(ValueError, match="cannot decode") as info:
            store.get_rgb(key)
        assert key in str(info.value)
    finally:
        store.close()
    with pytest.raises(RuntimeError, match="failed verification"):
        pack_lmdb(LmdbConfig(data_path=str(data_path), verify_samples=10_000), progress=False, log=lambda *_: None)


def test_packing_with_a_missing_crop_names_it_and_resumes(curated, tmp_path):
    data_path = _copy(curated, tmp_path)
    key = sorted(Manifest.load(data_path).keys())[-1]
    saved = (data_path / key).read_bytes()
    (data_path / key).unlink()
    with pytest.raises(FileNotFoundError) as info:
        pack_lmdb(LmdbConfig(data_path=str(data_path), commit_every=4), progress=False, log=lambda *_: None)
    assert key in str(info.value) and str(data_path) in str(info.value)
    assert leftovers(Path(default_lmdb_path(data_path))) == []
    (data_path / key).write_bytes(saved)
    report = pack_lmdb(LmdbConfig(data_path=str(data_path)), progress=False, log=lambda *_: None)
    assert report["verified"] and report["already_present"] > 0


def test_no_lmdb_and_no_manifest_are_named(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        LmdbStore(tmp_path / "nothing.lmdb")
    assert str(tmp_path / "nothing.lmdb" / "data.mdb") in str(info.value)
    with pytest.raises(FileNotFoundError, match="no curation manifest") as info:
        pack_lmdb(LmdbConfig(data_path=str(tmp_path / "cur")), progress=False, log=lambda *_: None)
    assert str(tmp_path / "cur") in str(info.value)
    (tmp_path / "cur").mkdir()
    (tmp_path / "cur" / "manifest.json").write_text('{"format": "siamfc-curation/1", "vide')
    with pytest.raises(ValueError, match="corrupt manifest") as info:
        pack_lmdb(LmdbConfig(data_path=str(tmp_path / "cur")), progress=False, log=lambda *_: None)
    assert str(tmp_path / "cur" / "manifest.json") in str(info.value)


# --------------------------------------------------------------------------------------------
# Checkpoints: truncated, empty, foreign, another model
# --------------------------------------------------------------------------------------------

def _checkpoints():
    try:
        return pytest.importorskip("siamfc_lib.training.checkpoints")
    except Exception as exc:  # noqa: BLE001 - a half-finished module must skip, not error
        pytest.skip(f"siamfc_lib.training.checkpoints not importable: {exc}")


@pytest.fixture
def good_checkpoint(tmp_path):
    ck = _checkpoints()
    from siamfc_lib.model import build_model

    torch.manual_seed(0)
    model = build_model(width=0.25)
    path = ck.save_checkpoint(tmp_path / "run", 1, {"model": model.state_dict(), "width": 0.25, "head_bias": True})
    assert leftovers(tmp_path / "run") == []
    return ck, path


@pytest.mark.parametrize("damage", ["truncated", "empty", "text", "half"])
def test_damaged_checkpoint_is_a_checkpoint_error_naming_the_file(good_checkpoint, tmp_path, damage):
    ck, path = good_checkpoint
    data = path.read_bytes()
    bad = tmp_path / "bad.pth"
    bad.write_bytes({"truncated": data[:-100], "empty": b"", "text": b"{not torch}", "half": data[: len(data) // 2]}[damage])
    for load in (ck.load_checkpoint, ck.load_model_from_checkpoint):
        with pytest.raises(ck.CheckpointError) as info:
            load(bad)
        assert str(bad) in str(info.value) and "unreadable" in str(info.value)


def test_foreign_checkpoint_is_refused_naming_the_file(good_checkpoint, tmp_path):
    ck, _ = good_checkpoint
    foreign = tmp_path / "resnet.pth"
    torch.save(torch.nn.Linear(3, 2).state_dict(), foreign)
    with pytest.raises(ck.CheckpointError, match="not a SiamFC training checkpoint") as info:
        ck.load_model_from_checkpoint(foreign)
    assert str(foreign) in str(info.value)
    tensor = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), tensor)
    with pytest.raises(ck.CheckpointError, match="not a SiamFC"):
        ck.load_checkpoint(tensor)


def test_checkpoint_of_another_model_is_refused_naming_the_file_and_widths(good_checkpoint, tmp_path):
    ck, path = good_checkpoint
    from siamfc_lib.model import build_model

    ckpt = ck.load_checkpoint(path)
    with pytest.raises(ck.CheckpointError) as info:
        ck.load_model_state(build_model(width=0.5), ckpt)
    message = str(info.value)
    assert str(path) in message and "0.25" in message and "0.5" in message
    # A checkpoint whose recorded width lies about its weights.
    liar = torch.load(path, weights_only=False)
    liar["width"] = 1.0
    lpath = tmp_path / "liar.pth"
    torch.save(liar, lpath)
    with pytest.raises(ck.CheckpointError, match="does not fit this model") as info:
        ck.load_model_from_checkpoint(lpath)
    assert str(lpath) in str(info.value)


def test_missing_checkpoint_and_empty_run_dir_are_named(good_checkpoint, tmp_path):
    ck, _ = good_checkpoint
    with pytest.raises(ck.CheckpointError, match="does not exist") as info:
        ck.load_checkpoint(tmp_path / "nope.pth")
    assert str(tmp_path / "nope.pth") in str(info.value)
    (tmp_path / "emptyrun").mkdir()
    with pytest.raises(ck.CheckpointError) as info:
        ck.load_model_from_checkpoint(tmp_path / "emptyrun")
    assert str(tmp_path / "emptyrun" / "checkpoints" / "last.pth") in str(info.value)


# --------------------------------------------------------------------------------------------
# Configuration: unknown keys, wrong types, broken params files, papermill
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,params,words", [
    (CurateConfig, {"wokers": 2}, ["wokers", "CurateConfig"]),
    (LmdbConfig, {"lmdb_pth": "x"}, ["lmdb_pth", "LmdbConfig"]),
    (TrainConfig, {"epochs": "ten"}, ["'epochs'", "integer", "'ten'"]),
    (TrainConfig, {"lr": "fast"}, ["'lr'", "number"]),
    (TrainConfig, {"amp": "fp8"}, ["'amp'", "fp8", "bf16"]),
    (TrainConfig, {"resume": "yes"}, ["'resume'", "true or false"]),
    (TrainConfig, {"epochs": 2.5}, ["'epochs'", "integer"]),
    (CurateConfig, {"subsets": "train"}, ["'subsets'", "list"]),
    (CurateConfig, {"subsets": ["train", 3]}, ["subsets[1]", "string"]),
    (LmdbConfig, {"data_path": None}, ["'data_path'", "string"]),
])
def test_bad_parameters_raise_config_error_naming_the_key(cls, params, words):
    with pytest.raises(ConfigError) as info:
        build(cls, params)
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize("text,words", [
    ("epochs: [1, 2\n", ["not valid YAML"]),
    ("- epochs\n- 3\n", ["expected a mapping", "list"]),
    ("just a string\n", ["expected a mapping", "str"]),
    ("a: 1\n\tb: 2\n", ["not valid YAML"]),
])
def test_broken_params_file_names_the_file(tmp_path, text, words):
    path = tmp_path / "03_train_1p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_params(path)
    assert str(path) in str(info.value)
    for word in words:
        assert word in str(info.value)


def test_training_config_file_with_unknown_key_or_wrong_type(tmp_path):
    run = pytest.importorskip("siamfc_lib.training.run")
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"epochs": 2, "bacth_size": 4}))
    with pytest.raises(ConfigError, match="bacth_size"):
        run.load_train_config(path)
    path.write_text(json.dumps({"epochs": "two"}))
    with pytest.raises(ConfigError, match="'epochs'.*'two'"):
        run.load_train_config(path)
    with pytest.raises(ConfigError, match="batch_size"):
        preset("ascend", batch_size="big")


@pytest.mark.slow
def test_papermill_unknown_parameter_is_rejected(curated, tmp_path):
    papermill = pytest.importorskip("papermill")
    data_path = _copy(curated, tmp_path)
    out = tmp_path / "02_lmdb.out.ipynb"
    try:
        papermill.execute_notebook(str(ROOT / "notebooks" / "02_lmdb.ipynb"), str(out),
                                   parameters={"data_path": str(data_path), "progress": False,
                                               "lmdb_pth": str(tmp_path / "typo.lmdb")},
                                   kernel_name="python3", cwd=str(ROOT), progress_bar=False,
                                   execution_timeout=120)
    except papermill.PapermillExecutionError as exc:
        assert "lmdb_pth" in str(exc), str(exc)
        return
    packed = Path(default_lmdb_path(data_path), "data.mdb").exists()
    pytest.fail(f"02_lmdb ran to the end with the unknown parameter lmdb_pth (papermill only logs "
                f"'Passed unknown parameter'); packed into the default path instead: {packed}")


# --------------------------------------------------------------------------------------------
# Devices that do not exist
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,words", [
    ("tpu", ["'tpu'", "auto, cpu, cuda[:i], npu[:i]"]),
    ("tpu:0", ["'tpu:0'", "cuda[:i]"]),
    ("cuda:-1", ["'cuda:-1'", "cuda[:i]"]),
    ("gpu", ["'gpu'", "npu[:i]"]),
    ("", ["''", "auto, cpu"]),
    ("cuda:7", ["cuda"]),
    ("npu", ["'npu'", "torch_npu"]),
    ("npu:3", ["'npu:3'", "torch_npu"]),
])
def test_device_that_does_not_exist_is_a_device_error_with_a_useful_message(spec, words):
    if spec.startswith("npu"):
        from siamfc_lib.devices import npu_unavailable_reason

        if npu_unavailable_reason() is None:
            pytest.skip("an NPU is available here")
    with pytest.raises(DeviceError) as info:
        resolve_device(spec)
    message = str(info.value)
    for word in words:
        assert word in message, message
    if spec == "cuda:7":
        # Either no CUDA at all (this CPU build), or fewer than 8 GPUs: both say so.
        assert ("not available" in message and "device='cpu'" in message) or "only" in message, message
