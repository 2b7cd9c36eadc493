"""OTB loader: every quirk of the real layout, from small fixtures built here."""
from __future__ import annotations

import numpy as np
import pytest

from otb_fixtures import write_sequence
from siamfc_lib.data.otb import OTBDataset, OTBFormatError, parse_groundtruth
from siamfc_lib.data.otb_attributes import ATTRIBUTE_DESCRIPTIONS, OTB2015_ATTRIBUTES


@pytest.fixture(scope="module")
def otb_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("OTB")
    write_sequence(root, "Synth01", 6)
    write_sequence(root, "Jogging", 5, gt_names=("groundtruth_rect.1.txt", "groundtruth_rect.2.txt"))
    write_sequence(root, "Human4", 4, gt_names=("groundtruth_rect.2.txt",))
    (root / "Human4" / "groundtruth_rect.1.txt").write_text("")
    write_sequence(root, "Board", 5, digits=5)
    write_sequence(root, "BlurCar3", 5, first_number=3)
    write_sequence(root, "Football1", 4, extra=3)
    write_sequence(root, "Gray", 4, gray=True)
    write_sequence(root, "Couple", 4, delimiter="\t")
    mixed = ["1,2\t30 40", "", "  2 , 3,30,40  ", "3\t4\t30\t40", "", "4 5 30 40", ""]
    write_sequence(root, "Mixed", 4, gt_lines=mixed)
    gt = write_sequence(root, "David", 305)
    (root / "David" / "groundtruth_rect.txt").write_text(
        "\n".join(",".join(str(int(v)) for v in row) for row in gt[299:305]) + "\n")
    write_sequence(root, "Tiger1", 8)
    (root / "Empty").mkdir()
    return root


def test_scans_every_target_with_got10k_names(otb_root):
    ds = OTBDataset(otb_root)
    assert ds.names == ["BlurCar3", "Board", "Couple", "David", "Football1", "Gray", "Human4",
                        "Jogging.1", "Jogging.2", "Mixed", "Synth01", "Tiger1"]


def test_official_names_select_the_same_targets(otb_root):
    ds = OTBDataset(otb_root, sequences=["Jogging-2", "Human4-2", "Synth01"])
    assert ds.names == ["Jogging.2", "Human4", "Synth01"]
    assert ds["Jogging-2"].gt_file.name == "groundtruth_rect.2.txt"
    with pytest.raises(KeyError, match="Nope"):
        OTBDataset(otb_root, sequences=["Nope"])


def test_empty_gt_file_is_dropped(otb_root):
    seq = OTBDataset(otb_root)["Human4"]
    assert seq.gt_file.name == "groundtruth_rect.2.txt" and len(seq) == 4
    assert seq.attributes == ("IV", "SV", "OCC", "DEF")


def test_five_digit_names_and_name_offset(otb_root):
    ds = OTBDataset(otb_root)
    assert [p.name for p in ds["Board"].img_files] == [f"{i:05d}.jpg" for i in range(1, 6)]
    assert [p.name for p in ds["BlurCar3"].img_files] == [f"{i:04d}.jpg" for i in range(3, 8)]


def test_annotation_start_table_and_trailing_images(otb_root):
    ds = OTBDataset(otb_root)
    david = ds["David"]
    assert david.img_files[0].name == "0300.jpg" and len(david) == 6 == len(david.gt)
    football = ds["Football1"]
    assert len(football) == 4 and football.img_files[-1].name == "0004.jpg"


def test_delimiters_tabs_mixed_and_blank_lines(otb_root):
    ds = OTBDataset(otb_root)
    assert ds["Couple"].gt.shape == (4, 4)
    np.testing.assert_array_equal(ds["Mixed"].gt[:, :2], [[1, 2], [2, 3], [3, 4], [4, 5]])


def test_grayscale_frames_come_back_rgb(otb_root):
    frame = OTBDataset(otb_root)["Gray"].frame(0)
    assert frame.shape == (96, 128, 3) and frame.dtype == np.uint8
    assert np.array_equal(frame[..., 0], frame[..., 1])


def test_tiger1_convention(otb_root):
    assert len(OTBDataset(otb_root)["Tiger1"]) == 8
    omitted = OTBDataset(otb_root, tiger1_init_omit=True)["Tiger1"]
    assert len(omitted) == 3 and omitted.img_files[0].name == "0006.jpg"


@pytest.mark.parametrize("line, message", [("1,2,3", "expected 4 numbers"), ("1,2,3,4,5", "expected 4"),
                                           ("1,2,a,4", "not a number"), ("1,2,nan,4", "NaN")])
def test_bad_gt_line_names_file_and_line(tmp_path, line, message):
    path = tmp_path / "groundtruth_rect.txt"
    path.write_text(f"1,2,3,4\n\n{line}\n")
    with pytest.raises(OTBFormatError, match=rf"groundtruth_rect.txt:3: {message}"):
        parse_groundtruth(path)


def test_zero_size_boxes_are_kept_but_not_on_the_first_line(tmp_path):
    path = tmp_path / "groundtruth_rect.txt"
    path.write_text("1,2,3,4\n0,0,0,0\n5,5,-1,4\n")
    assert parse_groundtruth(path).shape == (3, 4)
    path.write_text("1,2,0,4\n")
    with pytest.raises(OTBFormatError, match="first box"):
        parse_groundtruth(path)


def test_missing_images_name_the_gt_file(tmp_path):
    write_sequence(tmp_path, "Short", 3, gt_lines=["1,1,5,5"] * 5)
    with pytest.raises(OTBFormatError, match=r"Short/groundtruth_rect.txt: 5 GT lines .* 2 are missing"):
        OTBDataset(tmp_path)["Short"]


def test_attribute_table_is_complete():
    assert len(OTB2015_ATTRIBUTES) == 100 and len(ATTRIBUTE_DESCRIPTIONS) == 11
    assert OTB2015_ATTRIBUTES["Jogging.1"] == ("OCC", "DEF", "OPR")
    assert all(set(a) <= set(ATTRIBUTE_DESCRIPTIONS) for a in OTB2015_ATTRIBUTES.values())
