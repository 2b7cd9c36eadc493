"""VID reader: layout discovery, XML schema, and every oddity of the real dataset."""
from pathlib import Path

import pytest

from siamfc_lib.data.vid import BoxFilter, VidFormatError, find_videos, parse_frame_xml, read_video
from vid_fixtures import frame_xml, make_small_root, moving_track, write_video

DOG, CAT = "n02084071", "n02121808"


def _one_video(root: Path, frames, **kw):
    write_video(root, "train", "ILSVRC2015_train_00005009", frames, **kw)
    (ref,) = find_videos(root)
    return ref


def test_finds_train_batches_and_flat_val_sorted(tmp_path):
    make_small_root(tmp_path, videos=3)
    refs = find_videos(tmp_path)
    assert [(r.subset, r.name) for r in refs] == [
        ("train", "ILSVRC2015_train_00000000"), ("train", "ILSVRC2015_train_00002000"),
        ("train", "ILSVRC2015_train_00001000"), ("val", "ILSVRC2015_val_00000000")]
    assert refs[1].image_dir.parent.name == "ILSVRC2015_VID_train_0000"
    assert refs[2].annotation_dir == tmp_path / "Annotations/VID/train/ILSVRC2015_VID_train_0001/ILSVRC2015_train_00001000"
    assert [r.name for r in find_videos(tmp_path, ("val",))] == ["ILSVRC2015_val_00000000"]


@pytest.mark.parametrize("make", [lambda p: p / "absent", lambda p: p])
def test_empty_or_absent_root_is_a_clear_error(tmp_path, make):
    with pytest.raises(VidFormatError, match=r"Data/VID/train/ILSVRC2015_VID_train_000N/<snippet>/000000\.JPEG"):
        find_videos(make(tmp_path))


def test_xml_schema_parses_corners_flags_and_size(tmp_path):
    path = tmp_path / "000008.xml"
    path.write_text(frame_xml("ILSVRC2015_VID_train_0000/x", 8, (1280, 576), [
        {"trackid": 3, "wnid": DOG, "box": (675, 115, 976, 451), "occluded": 1, "generated": 1}]))
    size, objects = parse_frame_xml(path)
    assert size == [1280, 576]
    assert objects == [{"trackid": 3, "wnid": DOG, "corners": [675, 115, 976, 451], "occluded": 1, "generated": 1}]


def test_tracks_frames_and_flags(tmp_path):
    frames = moving_track(4, 0)
    frames[2][0]["generated"] = 1
    frames[3][0]["occluded"] = 1
    ref = _one_video(tmp_path, frames, size=(64, 48))
    video = read_video(ref)
    (trk,) = video.tracks
    assert (trk.trackid, trk.wnid, trk.frames) == (0, DOG, [0, 1, 2, 3])
    assert trk.boxes[1] == [12, 10, 31, 25]
    assert trk.generated == [0, 0, 1, 0] and trk.occluded == [0, 0, 0, 1]
    assert video.frame_size == [64, 48] and not video.skipped


def test_no_object_frames_and_leave_reenter_keep_every_appearance(tmp_path):
    frames = moving_track(8, 0)
    for f in (3, 4):
        frames[f] = []                                # frames with no <object> at all
    frames[6] = [o for o in frames[6] if o["trackid"] != 0] + [{"trackid": 1, "wnid": CAT, "box": (1, 1, 20, 20)}]
    frames[7].append({"trackid": 1, "wnid": CAT, "box": (2, 2, 21, 21)})
    video = read_video(_one_video(tmp_path, frames))
    by_id = {t.trackid: t for t in video.tracks}
    assert by_id[0].frames == [0, 1, 2, 5, 7]        # left at 3, back at 5, gone at 6, back at 7
    assert by_id[1].frames == [6, 7] and by_id[1].wnid == CAT
    assert video.skipped == {"frame.no_objects": 2}


def test_degenerate_and_filtered_boxes_are_counted(tmp_path):
    frames = moving_track(6, 0)
    frames[0].append({"trackid": 1, "box": (30, 10, 20, 30)})      # xmax < xmin
    frames[1].append({"trackid": 1, "box": (100, 100, 120, 120)})  # off the 64x48 frame
    frames[2].append({"trackid": 1, "box": (5, 5, 5, 30)})         # 1 px wide: thin
    frames[3][0]["generated"] = 1
    frames[4].append({"trackid": 0, "box": (1, 1, 9, 9)})          # same trackid twice
    video = read_video(_one_video(tmp_path, frames))
    assert video.skipped == {"box.degenerate": 1, "box.outside_image": 1, "box.duplicate_trackid": 1,
                             "track.too_short": 1}                 # track 1 kept one box only
    no_generated = read_video(video.ref, BoxFilter(min_box_size=2, skip_generated=True))
    assert no_generated.skipped["box.generated"] == 1 and no_generated.skipped["box.too_small"] == 1
    assert no_generated.tracks[0].frames == [0, 1, 2, 4, 5]
    square_only = read_video(video.ref, BoxFilter(max_aspect=1.1))   # 20x16 boxes: aspect 1.25
    assert square_only.skipped["box.aspect"] == 6 + 1 and square_only.tracks == []
    assert square_only.skipped["video.no_valid_track"] == 1


def test_missing_and_malformed_xml_and_missing_jpeg_are_skipped(tmp_path):
    data_dir, anno_dir = write_video(tmp_path, "val", "ILSVRC2015_val_00030000", moving_track(7, 0))
    (anno_dir / "000001.xml").unlink()                                          # missing XML
    (anno_dir / "000002.xml").write_text("<annotation><size><width>64</wid")    # truncated
    (anno_dir / "000003.xml").write_text("<annotation><folder>x</folder></annotation>")  # no <size>
    (anno_dir / "000004.xml").write_bytes(b"")                                  # empty file
    (data_dir / "000005.JPEG").unlink()                                         # XML without image
    video = read_video(find_videos(tmp_path)[0])
    assert video.skipped == {"frame.missing_xml": 1, "frame.malformed_xml": 3, "frame.missing_jpeg": 1}
    assert video.tracks[0].frames == [0, 6]


def test_missing_annotation_folder_leaves_no_track(tmp_path):
    data_dir, anno_dir = write_video(tmp_path, "val", "ILSVRC2015_val_00000001", moving_track(3, 0))
    for p in anno_dir.iterdir():
        p.unlink()
    anno_dir.rmdir()
    video = read_video(find_videos(tmp_path)[0])
    assert video.tracks == [] and video.skipped == {"frame.missing_xml": 3, "video.no_valid_track": 1}
