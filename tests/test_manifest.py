"""The columnar manifest: round trip, size per crop, mapped not copied, deterministic bytes,
damaged files named; pairs drawn from it are those of the per-object form; checkpoint
keeping and /dev/shm sizing."""
import shutil
from collections import namedtuple

import pytest

from siamfc_lib.data.manifest import MANIFEST_FILE, Manifest, Track, Video, crop_key
from siamfc_lib.seeding import rng as derived_rng
from siamfc_lib.training import checkpoints
from siamfc_lib.training.pairs import PairDataset, shm_prefetch, split_videos
from siamfc_lib.training.transforms import AugmentParams


def _videos() -> list[Video]:
    out = []
    for v in range(5):
        tracks = []
        for t in range(v % 3 + 1):
            frames = list(range(t, t + 3 + 2 * v, 1 + t % 2))
            n = len(frames)
            tracks.append(Track(t * 3, f"n0000000{t}", frames, [[float(f), 1.0, f + 9.0, 12.0] for f in frames],
                                [[127.125, 126.5 + f / 8, 40.0625, 31.0] for f in frames], [f % 2 for f in frames],
                                [0] * n))
        if v == 3:
            tracks.append(Track(7, "n01", [4], [[0.0, 0.0, 5.0, 5.0]], [[127.0, 127.0, 3.0, 3.0]], [0], [0]))
        out.append(Video(f"ILSVRC2015_train_{v:08d}", "train" if v < 4 else "val", [320 + v, 240], tracks))
    return out


def test_round_trip_keys_and_size_per_crop(tmp_path):
    videos = _videos()
    m = Manifest.from_videos(videos, source="x", skipped={"box.too_small": 2})
    path = m.save(tmp_path)
    assert path == tmp_path / MANIFEST_FILE
    loaded = Manifest.load(tmp_path)
    assert loaded.videos == videos and loaded.skipped == {"box.too_small": 2} and loaded.source == "x"
    expected_keys = [k for v in videos for t in v.tracks for k in t.keys(v.video)]
    assert list(loaded.keys()) == expected_keys and loaded.keys()[-1] == expected_keys[-1]
    assert loaded.keys()[2:5] == expected_keys[2:5] and len(loaded.keys()) == loaded.num_crops() == len(expected_keys)
    assert list(loaded.iter_keys(sorted_like_lmdb=True)) == sorted(expected_keys)
    per_crop = sum(a.nbytes for name, a in loaded.columns.items() if a.shape[0] == loaded.num_crops())
    assert per_crop / loaded.num_crops() <= 64
    # memory-mapped, read-only: forked workers share the pages and cannot dirty them
    assert all(not a.flags.owndata and not a.flags.writeable for a in loaded.columns.values() if a.size)


def test_same_content_same_bytes_and_damage_is_named(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    Manifest.from_videos(_videos()).save(a)
    Manifest.from_videos(_videos()).save(b)
    assert (a / MANIFEST_FILE).read_bytes() == (b / MANIFEST_FILE).read_bytes()
    data = (a / MANIFEST_FILE).read_bytes()
    (a / MANIFEST_FILE).write_bytes(data[: len(data) - 200])
    with pytest.raises(ValueError, match="truncated.*rerun 01_curate"):
        Manifest.load(a)
    (a / MANIFEST_FILE).write_bytes(b"not a manifest at all, but long enough")
    with pytest.raises(ValueError, match=str(a / MANIFEST_FILE)):
        Manifest.load(a)
    shutil.rmtree(b)
    b.mkdir()
    with pytest.raises(FileNotFoundError, match="01_curate writes it"):
        Manifest.load(b)


def _old_choose(videos, wanted, seed, stream, index, frame_range):
    """The per-object pair choice the columnar dataset replaced (kept here as the reference)."""
    Ref = namedtuple("Ref", "video trackid frames")
    tracks = [[Ref(v.video, t.trackid, t.frames) for t in v.tracks if len(t.frames) >= 2]
              for v in videos if v.video in wanted]
    tracks = [t for t in tracks if t]
    gen = derived_rng(seed, "pairs", stream, index)
    video_tracks = tracks[int(gen.integers(len(tracks)))]
    track = video_tracks[int(gen.integers(len(video_tracks)))]
    n = len(track.frames)
    zi = int(gen.integers(n))
    lo, hi = max(0, zi - frame_range), min(n - 1, zi + frame_range)
    xi = int(gen.integers(lo, hi))
    if xi >= zi:
        xi += 1
    return (crop_key(track.video, track.frames[zi], track.trackid),
            crop_key(track.video, track.frames[xi], track.trackid))


def test_pairs_equal_those_of_the_per_object_manifest(tmp_path):
    videos = _videos()
    Manifest.from_videos(videos).save(tmp_path)
    m = Manifest.load(tmp_path)
    train, val = split_videos(m, 0.4, seed=3)
    assert sorted(train + val) == sorted(v.video for v in videos) and val
    ds = PairDataset(m, None, train, AugmentParams(), seed=5, stream="train", frame_range=2)
    assert [ds.choose(i) for i in range(300)] == [_old_choose(videos, set(train), 5, "train", i, 2)
                                                   for i in range(300)]


def test_checkpoint_policy_keeps_the_sweep_epochs_e0_and_the_newest(tmp_path):
    kept = [e for e in range(51) if checkpoints.keeps_epoch(e, 50, None)]
    assert kept == [0, 10, 20, 30, 40, 50]
    assert all(checkpoints.keeps_epoch(e, 16, None) for e in range(17))           # demo sweeps 8 and 16
    assert [e for e in range(8) if checkpoints.keeps_epoch(e, 7, 3)] == [0, 3, 6, 7]
    assert all(checkpoints.keeps_epoch(e, 50, 0) for e in range(51))
    folder = checkpoints.checkpoint_dir(tmp_path)
    folder.mkdir(parents=True)
    for e in range(13):
        checkpoints.epoch_path(tmp_path, e).write_bytes(b"x")
    (folder / "last.pth").write_bytes(b"x")
    checkpoints.prune_checkpoints(tmp_path, 12, 50, None)
    assert sorted(p.name for p in folder.iterdir()) == ["last.pth", "siamfc_e0.pth", "siamfc_e10.pth",
                                                         "siamfc_e12.pth"]


def test_shm_sizing_lowers_prefetch_and_says_how_to_fix(monkeypatch):
    import shutil as sh

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(sh, "disk_usage", lambda path: usage(64 << 20, 0, 64 << 20))   # Docker's default
    batch = 32 * 3 * (127 ** 2 + 239 ** 2)
    prefetch, note = shm_prefetch(batch, workers=8, processes=8)
    assert prefetch == 1 and "--shm-size" in note and "64 MiB free" in note
    monkeypatch.setattr(sh, "disk_usage", lambda path: usage(2 << 30, 0, 2 << 30))
    prefetch, note = shm_prefetch(batch, workers=8, processes=8)   # ascend 8p in 2 GiB: 3 fit, not 4
    assert prefetch == 3 and "prefetching 3" in note
    assert shm_prefetch(batch, workers=8, processes=1) == (4, None)
    assert shm_prefetch(batch, workers=0, processes=8) == (4, None)


def test_a_manifest_of_the_previous_columns_format_reads_the_same(tmp_path):
    """siamfc-curation/2 kept the names as header lists; curated folders of that format stay usable."""
    from vid_fixtures import write_columns_v2

    videos = [Video(f"ILSVRC2015_train_{i:08d}", "train" if i % 3 else "val", [320, 240],
                    [Track(i % 2, "n02084071", [0, 1, 2], [[1, 2, 30, 40]] * 3, [[127, 127, 60, 50]] * 3)])
              for i in range(5)]
    current = Manifest.from_videos(videos, source="/data/VID")
    current.save(tmp_path / "now")
    (tmp_path / "old").mkdir()
    write_columns_v2(current, tmp_path / "old" / MANIFEST_FILE)
    old, now = Manifest.load(tmp_path / "old"), Manifest.load(tmp_path / "now")
    assert list(old.keys()) == list(now.keys()) and old.videos == now.videos
    assert old.fingerprint() == now.fingerprint()          # LMDBs packed from the old manifest stay valid
    assert list(old.video_names) == [v.video for v in videos] and old.video_names[-1] == videos[-1].video
