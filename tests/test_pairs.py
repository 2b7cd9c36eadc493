"""Pair sampling and augmentation: geometry, seeded streams, split, both crop stores."""
import numpy as np
import pytest
import torch

from siamfc_lib.data.crop_store import FolderStore, LmdbStore, open_crop_store
from siamfc_lib.seeding import rng
from siamfc_lib.training.pairs import PairDataset, PairSampler, pair_loader, split_videos
from siamfc_lib.training.synthetic_crops import write_synthetic_curation
from siamfc_lib.training.transforms import AugmentParams, augment_pair, sample_affines, warp


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    root = tmp_path_factory.mktemp("cur")
    manifest = write_synthetic_curation(root / "VID", videos=5, frames=8, seed=3, lmdb_path=root / "VID.lmdb")
    return root / "VID", manifest


def _marker_crop() -> np.ndarray:
    img = np.zeros((255, 255, 3), np.uint8)
    img[125:130, 125:130] = 255  # a 5x5 marker centred on pixel 127, the crop centre
    return img


def _centroid(img: np.ndarray) -> np.ndarray:
    w = img[..., 0].astype(np.float64)
    ys, xs = np.mgrid[: w.shape[0], : w.shape[1]]
    return np.array([(w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()])


@pytest.mark.parametrize("seed", range(20))
def test_augmentation_keeps_the_target_centred_within_the_translation_bound(seed):
    params = AugmentParams(stretch=0.05, max_translate=4, gray_prob=0.0)
    src = _marker_crop()
    z, x, _ = augment_pair(src, src, rng(seed, "t"), params)
    assert z.shape == (127, 127, 3) and x.shape == (239, 239, 3)
    assert np.allclose(_centroid(z), 63, atol=0.3)
    shift = sample_affines(rng(seed, "t"), params).shift  # the same draws augment_pair made
    cx = _centroid(x)
    assert np.allclose(cx, 119 - np.array(shift), atol=0.3)
    assert np.all(np.abs(cx - 119) <= 4 + 0.3)


def test_exemplar_is_the_centre_127_of_the_curated_crop_without_stretch():
    src = np.random.default_rng(0).integers(0, 256, (255, 255, 3), dtype=np.uint8)
    z, x, _ = augment_pair(src, src, rng(0), AugmentParams(stretch=0.0, max_translate=0, gray_prob=0.0))
    assert np.array_equal(z, src[64:191, 64:191]) and np.array_equal(x, src[8:247, 8:247])


def test_gray_applies_to_both_crops_of_a_pair():
    src = np.random.default_rng(1).integers(0, 256, (255, 255, 3), dtype=np.uint8)
    z, x, _ = augment_pair(src, src, rng(0), AugmentParams(gray_prob=1.0))
    assert np.array_equal(z[..., 0], z[..., 1]) and np.array_equal(x[..., 0], x[..., 2])


def test_colour_jitter_changes_channels_by_one_gain_per_pair():
    src = np.full((255, 255, 3), 100, np.uint8)
    z, x, _ = augment_pair(src, src, rng(0), AugmentParams(gray_prob=0.0, color_jitter=0.2))
    assert not np.array_equal(z[64, 64], [100, 100, 100]) and np.array_equal(z[64, 64], x[119, 119])


def test_warp_pads_with_the_crop_mean():
    src = np.full((255, 255, 3), 80, np.uint8)
    out = warp(src, np.array([[0.5, 0, 0], [0, 0.5, 0]]), 239)
    assert out[200, 200].tolist() == [80, 80, 80]


def test_split_is_by_video_seeded_and_disjoint(curated):
    _, manifest = curated
    train, val = split_videos(manifest, 0.4, seed=7)
    assert len(val) == 2 and len(train) == 3 and not set(train) & set(val)
    assert split_videos(manifest, 0.4, seed=7) == (train, val)
    assert split_videos(manifest, 0.0, seed=7)[1] == []


def test_pairs_come_from_one_track_within_the_frame_range(curated):
    path, manifest = curated
    ds = PairDataset(manifest, FolderStore(path), [v.video for v in manifest.videos], AugmentParams(),
                     seed=0, frame_range=2, items=200)
    seen_backwards = False
    for i in range(200):
        zk, xk = ds.choose(i)
        assert zk != xk and zk.split("/")[0] == xk.split("/")[0]
        fz, fx = int(zk.split("/")[1][:6]), int(xk.split("/")[1][:6])
        assert 1 <= abs(fz - fx) <= 2
        seen_backwards |= fx < fz
    assert seen_backwards


def test_items_are_float_chw_in_0_255(curated):
    path, manifest = curated
    ds = PairDataset(manifest, FolderStore(path), [manifest.videos[0].video], AugmentParams(), seed=0, items=4)
    z, x, offset = ds[0]
    assert z.shape == (3, 127, 127) and x.shape == (3, 239, 239) and z.dtype == torch.float32
    assert offset.shape == (2,) and offset.dtype == torch.float32
    assert 0 <= float(z.min()) and float(x.max()) <= 255 and float(x.max()) > 1


def test_lmdb_and_folder_give_the_same_pairs(curated):
    path, manifest = curated
    videos = [v.video for v in manifest.videos]
    store = open_crop_store(path, None)
    assert isinstance(store, LmdbStore)
    a = PairDataset(manifest, store, videos, AugmentParams(), seed=0, items=4)
    b = PairDataset(manifest, FolderStore(path), videos, AugmentParams(), seed=0, items=4)
    for i in range(4):
        assert all(torch.equal(p, q) for p, q in zip(a[i], b[i]))


def _batches(loader):
    return [torch.cat([z.flatten(1), x.flatten(1)], 1) for z, x, _ in loader]


def test_streams_are_independent_of_worker_count_and_differ_between_workers_and_epochs(curated):
    path, manifest = curated
    ds = PairDataset(manifest, open_crop_store(path, None), [v.video for v in manifest.videos],
                     AugmentParams(), seed=0, items=16, raw=True)
    serial = _batches(pair_loader(ds, PairSampler(16), 4, workers=0))
    parallel = _batches(pair_loader(ds, PairSampler(16), 4, workers=2))
    assert all(torch.equal(a, b) for a, b in zip(serial, parallel))
    # batches 0 and 1 were made by different workers: no shared pairs
    rows = [tuple(r[:64].tolist()) for r in torch.cat(parallel[:2])]
    assert len(set(rows)) == len(rows)
    epoch1 = _batches(pair_loader(ds, PairSampler(16, epoch=1), 4, workers=0))
    assert not any(torch.equal(a, b) for a, b in zip(serial, epoch1))


def test_ranks_take_disjoint_strided_indices():
    r0, r1 = list(PairSampler(10, epoch=2, rank=0, world_size=2)), list(PairSampler(10, epoch=2, rank=1, world_size=2))
    assert r0 == [20, 22, 24, 26, 28] and r1 == [21, 23, 25, 27, 29]


class _MarkerStore:
    """Every crop is the centred marker, so the instance shows where augmentation moved the target."""

    def get_rgb(self, key):
        return _marker_crop()


def test_each_pair_reports_where_its_target_landed_in_the_instance(curated):
    _, manifest = curated
    params = AugmentParams(stretch=0.0, max_translate=12, gray_prob=0.0)
    ds = PairDataset(manifest, _MarkerStore(), [manifest.videos[0].video], params, seed=0, items=8)
    offsets = []
    for i in range(8):
        _, x, offset = ds[i]
        offsets.append(offset.numpy())
        np.testing.assert_allclose(_centroid(x.permute(1, 2, 0).numpy()) - 119, offset.numpy(), atol=0.3)
    assert np.abs(np.array(offsets)).max() > 4   # the shifts really vary


def test_previews_are_the_same_pairs_read_a_few_at_a_time_and_release_the_store(tmp_path, monkeypatch):
    """03's previews: the pairs PairDataset draws for those indices, read in chunks, the LMDB closed after."""
    import torch

    from siamfc_lib.config import preset
    from siamfc_lib.data import crop_store
    from siamfc_lib.data.manifest import Manifest
    from siamfc_lib.training.loaders import preview_pairs
    from siamfc_lib.training.pairs import default_augment
    from siamfc_lib.training.synthetic_crops import write_synthetic_curation

    write_synthetic_curation(tmp_path / "VID", videos=4, frames=6, seed=3, lmdb_path=tmp_path / "VID.lmdb")
    cfg = preset("paper", data_path=str(tmp_path / "VID"), val_fraction=0.25)
    closed = []
    real_open = crop_store.open_crop_store

    def tracked(*args, **kwargs):
        store = real_open(*args, **kwargs)
        real_close = store.close
        store.close = lambda: (closed.append(store), real_close())
        return store

    monkeypatch.setattr("siamfc_lib.training.loaders.open_crop_store", tracked)
    z, x, offsets = preview_pairs(cfg, "val", 11, "preview-val", chunk=4)
    assert z.shape[0] == x.shape[0] == offsets.shape[0] == 11 and len(closed) == 1
    manifest = Manifest.load(cfg.data_path)
    assert Manifest.load(str(tmp_path / "VID")) is manifest           # one manifest per process
    _, val_videos = split_videos(manifest, cfg.val_fraction, cfg.seed)
    direct = PairDataset(manifest, real_open(cfg.data_path, None), val_videos, default_augment(cfg), cfg.seed,
                         "preview-val", cfg.frame_range, 11)
    for i in (0, 5, 10):
        dz, dx, doff = direct[i]
        assert torch.equal(dz, z[i]) and torch.equal(dx, x[i]) and torch.equal(doff, offsets[i])
