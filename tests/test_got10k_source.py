"""GOT-10k's train split as a training source: 01 curates it (alone or with VID), 03 trains on it, and a
run trained on anything else refuses to make a GOT-10k test submission as if it followed the protocol."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from siamfc_lib.config import CurateConfig, LmdbConfig
from siamfc_lib.data.benchmarks.got10k import GOT10kDataset
from siamfc_lib.data.curate import curate
from siamfc_lib.data.lmdb_pack import pack_lmdb
from siamfc_lib.data.manifest import MANIFEST_FILE, Manifest, curation_sources
from siamfc_lib.data.provenance import training_sources_label
from siamfc_lib.evaluation.evaluate import run_evaluation
from siamfc_lib.evaluation.training_data import OffProtocolError, got10k_protocol
from siamfc_lib.model import build_model
from siamfc_lib.training.checkpoints import save_checkpoint
from vid_fixtures import make_small_root

QUIET = dict(progress=False, log=lambda line: None)


@pytest.fixture(scope="module")
def curated(look_alikes, tmp_path_factory):
    data = tmp_path_factory.mktemp("curated") / "GOT"
    cfg = CurateConfig(source="got10k", got10k_root=str(look_alikes["got10k"]), data_path=str(data), workers=1)
    return cfg, curate(cfg, **QUIET)


def test_absent_and_invisible_frames_are_skipped_and_cut_frames_kept(curated, look_alikes):
    cfg, summary = curated
    train = list(GOT10kDataset(look_alikes["got10k"], "train"))
    absent = sum(int(s.meta["absence"].sum()) for s in train)
    hidden = sum(int(((s.meta["cover"] == 0) & (s.meta["absence"] == 0)).sum()) for s in train)
    kept = [(s.meta["cover"] > 0) & (s.meta["absence"] == 0) for s in train]
    assert absent > 0 and hidden > 0
    assert summary["skipped"] == {"box.absent": absent, "box.not_visible": hidden}
    assert summary["crops"] == sum(int(k.sum()) for k in kept) and summary["videos"] == len(train)
    cut = sum(int(s.meta["cut_by_image"][k].sum()) for s, k in zip(train, kept))
    assert cut > 0 and summary["flagged"] == {"got10k.cut_by_image": cut}
    manifest = Manifest.load(cfg.data_path)
    first = manifest.video(0)
    assert first.subset == "got10k-train" and first.tracks[0].wnid == train[0].meta["object_class"]
    assert first.tracks[0].frames == np.flatnonzero(kept[0]).tolist()       # frame 0 is 00000001.jpg
    occluded = (train[0].meta["cover"][kept[0]] < 8).astype(int).tolist()
    assert first.tracks[0].occluded == occluded


def test_the_manifest_names_its_sources_and_reruns_are_no_ops(curated, look_alikes):
    cfg, _ = curated
    assert curation_sources(cfg.data_path) == [{"kind": "got10k", "root": str(look_alikes["got10k"]),
                                                "subsets": ["train"]}]
    assert training_sources_label(curation_sources(cfg.data_path)) == "embedded GOT-10k-format train (synthetic)"
    again = curate(cfg, **QUIET)
    assert again["videos_curated"] == 0 and again["crops"] == curated[1]["crops"]


def test_both_sources_share_one_crop_store_and_old_manifests_still_read_as_vid(look_alikes, tmp_path):
    vid = make_small_root(tmp_path / "VID", videos=2, frames=4)
    both = CurateConfig(source="both", vid_root=str(vid), got10k_root=str(look_alikes["got10k"]),
                        data_path=str(tmp_path / "both"), workers=1)
    summary = curate(both, **QUIET)
    manifest = Manifest.load(both.data_path)
    assert set(manifest.subsets) == {"train", "val", "got10k-train"}
    assert [s["kind"] for s in curation_sources(both.data_path)] == ["vid", "got10k"]
    vid_only = CurateConfig(vid_root=str(vid), data_path=str(tmp_path / "vid"), workers=1)
    curate(vid_only, **QUIET)
    header = (tmp_path / "vid" / MANIFEST_FILE).read_bytes()[:4096]
    assert b'"sources"' not in header              # a VID curation's manifest is as it was before GOT-10k
    assert curation_sources(vid_only.data_path) == [{"kind": "vid", "root": str(vid), "subsets": ["train", "val"]}]
    assert summary["videos"] == 3 + 4               # two VID train snippets and a val one, four GOT-10k videos


@pytest.mark.slow
def test_03_trains_on_a_got10k_curation_and_its_run_follows_the_protocol(curated, tmp_path):
    from siamfc_lib.config import preset
    from siamfc_lib.training.run import train_this_process

    cfg, _ = curated
    pack_lmdb(LmdbConfig(data_path=cfg.data_path, keep_folder=True), progress=False, log=lambda line: None)
    run = tmp_path / "train"
    train_cfg = preset("paper", data_path=cfg.data_path, width=0.125, batch_size=2, epochs=1, pairs_per_epoch=8,
                       val_pairs=4, workers=0, run_dir=str(run), device="cpu", warmup_steps=1)
    summary = train_this_process(train_cfg, progress=False)
    assert np.isfinite(summary["final_loss"]) and (run / "checkpoints" / "last.pth").exists()
    status = got10k_protocol(run)
    assert status["followed"] is True and status["training_data"] == "embedded GOT-10k-format train (synthetic)"


def _vid_trained_run(tmp_path, vid_root) -> str:
    """A training run folder whose config names a VID curation (no training needed to know the data)."""
    data = tmp_path / "vidcur"
    curate(CurateConfig(vid_root=str(vid_root), data_path=str(data), workers=1), **QUIET)
    run = tmp_path / "vidrun"
    save_checkpoint(run, 0, {"model": build_model(width=0.25).state_dict(), "width": 0.25, "head_bias": True})
    (run / "config.json").write_text(json.dumps({"data_path": str(data)}))
    return str(run)


def test_a_run_not_trained_on_got10k_train_alone_refuses_the_test_submission(look_alikes, tmp_path):
    run = _vid_trained_run(tmp_path, make_small_root(tmp_path / "VID", videos=2, frames=4))
    params = {"benchmark": "got10k_test", "benchmark_root": str(look_alikes["got10k"]), "checkpoint": run,
              "device": "cpu", "run_dir": str(tmp_path / "eval"), "decode_workers": 0}
    with pytest.raises(OffProtocolError, match=r"trained on ILSVRC2015-VID\. GOT-10k's one-shot protocol .* "
                                               r"`source: got10k`.*`allow_off_protocol: true`"):
        run_evaluation(params, log=lambda line: None)
    assert not (tmp_path / "eval" / "results").exists()                   # refused before tracking anything
    torch.manual_seed(0)
    outcome = run_evaluation({**params, "allow_off_protocol": True}, log=lambda line: None)
    assert outcome.submission.name == "SiamFC_off-protocol_GOT-10k_test.zip"
    info = json.loads((tmp_path / "eval" / "eval_info.json").read_text())
    assert info["training_protocol"]["followed"] is False and "NOT GOT-10k's protocol" in info["training_protocol"]["note"]
    val = run_evaluation({**params, "benchmark": "got10k_val", "run_dir": str(tmp_path / "val")},
                         log=lambda line: None)                          # val is for development: labelled only
    assert val.training_protocol["followed"] is False and "ao" in val.reports["SiamFC"]
