"""Every benchmark's reader on its embedded look-alike: each layout's quirks, checked against got10k's
own dataset classes reading the same files where got10k 0.1.3 has a working one."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from got10k import datasets as g10k

from siamfc_lib.data.benchmarks import BENCHMARKS, BenchmarkFormatError, benchmark_label, open_benchmark
from siamfc_lib.data.benchmarks.lasot import TEST_SEQUENCES
from siamfc_lib.data.benchmarks.otb import OTB2013_FOLDERS, TB50_FOLDERS
from siamfc_lib.data.benchmarks.uav123 import SUB_SEQUENCES


def _same_as_got10k(ours, theirs, names=None):
    """Our sequences equal got10k's: the same image files in order and the same boxes."""
    names = names or ours.names
    assert sorted(names) == sorted(theirs.seq_names)
    for name in names:
        img_files, anno = theirs[name][:2]
        seq = ours[name]
        assert [str(p) for p in seq.img_files] == [str(p) for p in img_files], name
        np.testing.assert_array_equal(seq.gt, np.asarray(anno, dtype=np.float64).reshape(-1, 4))


def test_otb_versions_are_the_toolkit_lists(look_alikes):
    assert OTB2013_FOLDERS == set(g10k.OTB._OTB__otb13_seqs) and len(OTB2013_FOLDERS) == 50
    assert TB50_FOLDERS == set(g10k.OTB._OTB__tb50_seqs) and len(TB50_FOLDERS) == 49
    root = look_alikes["otb"]
    assert open_benchmark("otb2013", root).names == ["David", "Jogging.1", "Jogging.2", "Tiger1"]
    assert open_benchmark("otb50", root).names == ["David", "Human4"]
    assert "Synth01" in open_benchmark("otb2015", root).names          # otb2015: every target found


def test_got10k_val_has_its_labels_and_test_its_hidden_boxes(look_alikes):
    root = look_alikes["got10k"]
    val, test = open_benchmark("got10k_val", root), open_benchmark("got10k_test", root)
    _same_as_got10k(val, g10k.GOT10k(str(root), subset="val"))
    assert [len(s.gt) for s in test] == [1, 1] and all(len(s) > 1 for s in test)     # only the first box
    assert not any("cover" in s.meta for s in test)
    theirs = g10k.GOT10k(str(root), subset="test")
    for seq in test:
        img_files, anno = theirs[seq.name]
        assert [str(p) for p in seq.img_files] == img_files and np.array_equal(seq.gt, anno)
    absent = [s for s in val if s.meta["absence"].any()]
    assert absent and all(s.meta["cover"][s.meta["absence"] > 0].max() == 0 for s in absent)
    assert any(((s.meta["cover"] == 0) & (s.meta["absence"] == 0)).any() for s in val)   # hidden, not absent
    assert any(s.meta["cut_by_image"].any() for s in val)
    assert {s.meta["resolution_wh"] for s in val} == {(160, 120)}
    assert open_benchmark("got10k_val", root / "val").names == val.names           # the split folder itself


def test_got10k_list_naming_a_missing_folder_is_an_error(look_alikes, tmp_path):
    root = tmp_path / "GOT-10k"
    shutil.copytree(look_alikes["got10k"] / "val", root / "val")
    (root / "val" / "list.txt").write_text("GOT-10k_Val_000001\nGOT-10k_Val_000099\n")
    with pytest.raises(FileNotFoundError, match="GOT-10k_Val_000099"):
        open_benchmark("got10k_val", root)
    (root / "val" / "GOT-10k_Val_000001" / "cover.label").write_text("1\n")
    (root / "val" / "list.txt").write_text("GOT-10k_Val_000001\n")
    with pytest.raises(BenchmarkFormatError, match="cover.label: 1 labels for"):
        open_benchmark("got10k_val", root)["GOT-10k_Val_000001"]


def test_lasot_keeps_protocol_ii_and_reads_its_one_line_flags(look_alikes):
    root = look_alikes["lasot"]
    lasot = open_benchmark("lasot", root)
    assert lasot.names == ["airplane-1", "airplane-9", "bird-2"] and "airplane-2" not in TEST_SEQUENCES
    assert (root / "airplane" / "airplane-2").is_dir()                     # a training sequence, left out
    assert len(TEST_SEQUENCES) == 280 and len(lasot.missing) == 277
    gone, hidden = lasot["airplane-1"], lasot["airplane-9"]
    assert gone.meta["out_of_view"].any() and hidden.meta["full_occlusion"].any()
    np.testing.assert_array_equal(gone.gt[gone.meta["out_of_view"] > 0], [[1, 1, -1, -1]] * gone.meta["out_of_view"].sum())
    assert (hidden.gt[hidden.meta["full_occlusion"] > 0, 2] > 0).all()      # in view: the whole box is kept
    for seq in lasot:
        np.testing.assert_array_equal(seq.gt, np.loadtxt(seq.gt_file, delimiter=","))
        assert seq.img_files[0].name == "00000001.jpg" and seq.folder.parent.name == seq.name.split("-")[0]


def test_uav123_pieces_start_at_their_frame_in_one_folder(look_alikes):
    root = look_alikes["uav123"]
    uav = open_benchmark("uav123", root)
    assert uav.names == ["bike1", "bird1_1", "bird1_2", "bird1_3"]
    for name in ("bird1_1", "bird1_2", "bird1_3"):
        assert uav[name].img_files[0].parent.name == "bird1"
        assert int(uav[name].img_files[0].stem) == SUB_SEQUENCES[name][1] == (1, 775, 1573)[int(name[-1]) - 1]
    assert np.isnan(uav["bird1_2"].gt).all(axis=1).any() and not np.isnan(uav["bird1_2"].gt[0]).any()
    _same_as_got10k(uav, _got10k_uav(root, "UAV123", uav))
    uav20l = open_benchmark("uav20l", root)
    assert uav20l.names == ["bike1"]
    _same_as_got10k(uav20l, _got10k_uav(root, "UAV20L", uav20l))


def _got10k_uav(root, version: str, ours):
    """got10k's reader, its start frames kept; the end frames cut to the look-alike's shorter pieces."""
    theirs = g10k.UAV123(str(root), version)
    for name in ours.names:
        meta = theirs.seq_metas[version][name]
        meta["end_frame"] = meta["start_frame"] + len(ours[name]) - 1
    return theirs


def test_nfs_keeps_every_eighth_240fps_row_and_cuts_the_odd_one(look_alikes):
    root = look_alikes["nfs"]
    nfs = open_benchmark("nfs30", root)
    gym, bee = nfs["Gymnastics"], nfs["bee"]
    rows = len((root / "Gymnastics" / "30" / "Gymnastics.txt").read_text().splitlines())
    assert gym.meta["row_step"] == 8 and rows == 8 * len(gym) + 1
    assert bee.meta["row_step"] == 1 and len(bee) == len((root / "bee" / "30" / "bee.txt").read_text().splitlines()) - 1
    _same_as_got10k(nfs, g10k.NfS(str(root), fps=30))


def test_tc128_takes_its_frame_range_and_dtb70_every_image(look_alikes):
    tc = open_benchmark("tc128", look_alikes["tc128"])
    assert tc["Ball_ce1"].img_files[0].name == "0004.jpg" and tc["Ball_ce1"].meta["frame_range"][0] == 4
    assert len(list((tc["Ball_ce1"].folder / "img").glob("*.jpg"))) == len(tc["Ball_ce1"]) + 5
    _same_as_got10k(tc, g10k.TColor128(str(look_alikes["tc128"]), download=False))
    dtb = open_benchmark("dtb70", look_alikes["dtb70"])
    assert dtb["BMX2"].img_files[0].name == "00001.jpg" and dtb["BMX2"].frame(0).shape[2] == 3   # grey -> RGB
    _same_as_got10k(dtb, g10k.DTB70(str(look_alikes["dtb70"])))


def test_every_benchmark_names_its_look_alike_so(look_alikes):
    for key, spec in BENCHMARKS.items():
        label = benchmark_label(key, look_alikes[spec.look_alike])
        assert "synthetic" in label, (key, label)
    with pytest.raises(ValueError, match="unknown benchmark 'vot2018'"):
        open_benchmark("vot2018", look_alikes["otb"])
    with pytest.raises(FileNotFoundError, match="UAV123 root folder"):
        open_benchmark("uav123", look_alikes["otb"] / "nowhere")
