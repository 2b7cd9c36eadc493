"""The embedded dataset: real on-disk formats, exact boxes, quirks present, determinism, atomicity."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamfc_lib import boxes
from siamfc_lib.config.data import SyntheticConfig
from siamfc_lib.data.synthetic import VID_WNIDS, ensure_embedded_datasets, generate_otb, generate_vid
from siamfc_lib.data.synthetic import workers
from siamfc_lib.data.synthetic.photos import Sprite
from siamfc_lib.data.synthetic.scenes import Camera, Layer, Scene, render
from siamfc_lib.data.synthetic.tree import MARKER

SMOKE = SyntheticConfig.preset("smoke")
OTB_START = {"David": 300, "BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18}   # the loaders' table


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("embedded")
    ensure_embedded_datasets(base / "ILSVRC2015", base / "OTB", SMOKE, log=lambda line: None)
    return base / "ILSVRC2015", base / "OTB"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- VID


def _children(element) -> list[str]:
    return [child.tag for child in element]


def test_vid_every_frame_has_xml_with_the_devkit_schema(trees):
    vid, _ = trees
    jpegs = sorted((vid / "Data" / "VID").rglob("*.JPEG"))
    xmls = sorted((vid / "Annotations" / "VID").rglob("*.xml"))
    assert len(jpegs) == len(xmls) > 0
    assert [p.relative_to(vid / "Data") for p in jpegs] == [p.relative_to(vid / "Annotations").with_suffix(".JPEG") for p in xmls]
    for xml in xmls:
        root = ET.parse(xml).getroot()
        tags = _children(root)
        assert root.tag == "annotation"
        assert tags[:4] == ["folder", "filename", "source", "size"] and set(tags[4:]) <= {"object"}
        rel = xml.relative_to(vid / "Annotations" / "VID")
        subset = rel.parts[0]
        assert root.findtext("folder") == "/".join(rel.parts[1:-1])
        assert root.findtext("filename") == xml.stem and re.fullmatch(r"\d{6}", xml.stem)
        assert _children(root.find("source")) == ["database"] and root.findtext("source/database") == "ILSVRC_2015"
        assert _children(root.find("size")) == ["width", "height"]
        width, height = int(root.findtext("size/width")), int(root.findtext("size/height"))
        with Image.open(vid / "Data" / xml.relative_to(vid / "Annotations").with_suffix(".JPEG")) as im:
            assert im.size == (width, height) and im.mode == "RGB"
        if subset == "train":
            assert re.fullmatch(r"ILSVRC2015_VID_train_000[0-3]/ILSVRC2015_train_\d{8}", root.findtext("folder"))
        else:
            assert re.fullmatch(r"ILSVRC2015_val_\d{8}", root.findtext("folder"))
        for obj in root.findall("object"):
            assert _children(obj) == ["trackid", "name", "bndbox", "occluded", "generated"]
            assert _children(obj.find("bndbox")) == ["xmax", "xmin", "ymax", "ymin"]
            assert obj.findtext("name") in VID_WNIDS
            assert obj.findtext("occluded") in ("0", "1") and obj.findtext("generated") in ("0", "1")
            xmin, ymin, xmax, ymax = (int(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax"))
            assert 0 <= xmin <= xmax < width and 0 <= ymin <= ymax < height


def _vid_objects(vid: Path):
    """{snippet: [(frame, trackid, corners, occluded, generated, (W, H))]}."""
    out: dict[str, list] = {}
    for xml in sorted((vid / "Annotations" / "VID").rglob("*.xml")):
        root = ET.parse(xml).getroot()
        size = (int(root.findtext("size/width")), int(root.findtext("size/height")))
        rows = out.setdefault(root.findtext("folder"), [])
        rows.append((int(xml.stem), None, None, 0, 0, size))
        for obj in root.findall("object"):
            corners = [int(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
            rows.append((int(xml.stem), int(obj.findtext("trackid")), corners, int(obj.findtext("occluded")),
                         int(obj.findtext("generated")), size))
    return out


def test_vid_contains_every_deliberate_oddity(trees):
    vid, _ = trees
    snippets = _vid_objects(vid)
    empty_frames = reentries = several_tracks = 0
    flags = {"occluded": 0, "generated": 0, "border": 0, "tiny": 0, "odd_aspect": 0}
    for rows in snippets.values():
        frames = sorted({r[0] for r in rows})
        with_objects = {r[0] for r in rows if r[1] is not None}
        empty_frames += len(set(frames) - with_objects)
        tracks = {r[1] for r in rows if r[1] is not None}
        several_tracks += len(tracks) > 1
        for track in tracks:
            present = np.array([any(r[0] == f and r[1] == track for r in rows) for f in frames])
            starts = np.flatnonzero(np.diff(present.astype(int)) == 1)
            reentries += bool(starts.size and present[: starts[0] + 1].any())
        for _, track, corners, occluded, generated, (width, height) in rows:
            if track is None:
                continue
            w, h = boxes.vid_corners_to_cxcywh(corners)[2:]
            flags["occluded"] += occluded
            flags["generated"] += generated
            flags["border"] += corners[0] == 0 or corners[1] == 0 or corners[2] == width - 1 or corners[3] == height - 1
            flags["tiny"] += min(w, h) < 20
            flags["odd_aspect"] += max(w / h, h / w) > 3
    assert empty_frames > 0 and reentries > 0 and several_tracks > 0
    assert all(count > 0 for count in flags.values()), flags


def test_vid_image_sets(trees):
    vid, _ = trees
    sets = vid / "ImageSets" / "VID"
    snippets = _vid_objects(vid)
    listed = set()
    for k, wnid in enumerate(VID_WNIDS, start=1):
        for line in (sets / f"train_{k}.txt").read_text().splitlines():
            folder, label = line.split(" ")
            assert label == "1" and (vid / "Data" / "VID" / "train" / folder).is_dir()
            listed.add(folder)
            names = {o.findtext("name") for x in (vid / "Annotations" / "VID" / "train" / folder).glob("*.xml")
                     for o in ET.parse(x).getroot().findall("object")}
            assert wnid in names
    assert listed == {s for s in snippets if s.startswith("ILSVRC2015_VID_train")}
    val_lines = (sets / "val.txt").read_text().splitlines()
    val_frames = sorted((vid / "Data" / "VID" / "val").rglob("*.JPEG"))
    assert [line.split(" ")[1] for line in val_lines] == [str(i) for i in range(1, len(val_frames) + 1)]
    assert [line.split(" ")[0] for line in val_lines] == [str(p.relative_to(vid / "Data" / "VID" / "val").with_suffix("")) for p in val_frames]


def test_rendered_boxes_are_tight_on_the_drawn_pixels():
    """A white object on black, no noise or light change: the box must match the bright pixels."""
    n, size = 6, 48
    yy, xx = np.mgrid[0:size, 0:size]
    alpha = (((xx - 23.5) / 24) ** 2 + ((yy - 23.5) / 12) ** 2 <= 1).astype(np.float32)
    sprite = Sprite(colour=np.dstack([alpha * 255] * 3), alpha=alpha, source="test", shape="ellipse")
    layer = Layer(sprite=sprite, cx=np.linspace(10, 70, n), cy=np.linspace(40, 20, n), size=np.linspace(20, 45, n),
                  stretch=np.linspace(0.5, 2, n), angle=np.linspace(0, 60, n), track_id=0, wnid=VID_WNIDS[0])
    camera = Camera(photo=np.zeros((200, 200, 3), np.float32), cx=np.full(n, 100.0), cy=np.full(n, 100.0), zoom=np.ones(n))
    scene = Scene(width=80, height=60, frames=n, camera=camera, layers=[layer], gain=np.ones((n, 3)), shade=np.zeros(n),
                  shade_angle=0.0, noise=0.0, exposure=0.0, grey=False, noise_seed=0)
    for image, (view,) in render(scene):
        ys, xs = np.nonzero(image[..., 0] >= 128)
        expected = boxes.vid_corners_to_cxcywh([xs.min(), ys.min(), xs.max(), ys.max()])
        np.testing.assert_allclose(view.visible, expected)
    assert xs.max() == 79  # the last frame runs off the right border: the box is clipped there


# ---------------------------------------------------------------- OTB


def _otb_targets(otb: Path):
    """A plain reader: glob non-empty GT files, normalise delimiters, align by the start table."""
    for seq in sorted(p for p in otb.iterdir() if p.is_dir()):
        images = sorted((seq / "img").glob("*.jpg"))
        numbers = [int(p.stem) for p in images]
        start = OTB_START.get(seq.name, numbers[0])
        for gt_file in sorted(seq.glob("groundtruth_rect*.txt")):
            text = gt_file.read_text()
            if not text.strip():
                continue
            gt = np.loadtxt(re.sub(r"[,\t]", " ", text).splitlines(), ndmin=2)
            yield seq.name, gt_file.name, images, numbers.index(start), gt


def test_otb_quirks_and_alignment(trees):
    _, otb = trees
    seen = {}
    delimiters = set()
    for seq, gt_name, images, first, gt in _otb_targets(otb):
        seen.setdefault(seq, []).append(gt_name)
        raw = (otb / seq / gt_name).read_text()
        delimiters |= {d for d in (",", "\t", " ") if d in raw}
        assert gt.shape[1] == 4 and len(images) - first >= len(gt)
        trailing = len(images) - first - len(gt)
        assert trailing == (7 if seq == "Football1" else 0), seq
        with Image.open(images[first]) as im:
            width, height = im.size
        x, y, w, h = gt.T
        assert (gt == np.round(gt)).all() and (w > 0).all() and (h > 0).all()
        assert (x >= 1).all() and (y >= 1).all() and (x + w - 1 <= width).all() and (y + h - 1 <= height).all()
    assert delimiters == {",", "\t", " "}
    assert seen["Jogging"] == ["groundtruth_rect.1.txt", "groundtruth_rect.2.txt"]
    assert not (otb / "Jogging" / "groundtruth_rect.txt").exists()
    assert seen["Human4"] == ["groundtruth_rect.2.txt"] and (otb / "Human4" / "groundtruth_rect.1.txt").read_text() == ""
    assert sorted(p.name for p in (otb / "Board" / "img").iterdir())[0] == "00001.jpg"
    assert sorted(p.name for p in (otb / "BlurCar3" / "img").iterdir())[0] == "0003.jpg"
    david = sorted(p.name for p in (otb / "David" / "img").iterdir())
    assert david[0] == "0001.jpg" and "0300.jpg" in david
    assert {"Tiger1", "Synth01", "Synth02"} <= set(seen)


def test_otb_grey_sequences_are_single_channel(trees):
    _, otb = trees
    modes = {}
    for seq in ("David", "Synth02", "Synth01", "Jogging"):
        with Image.open(sorted((otb / seq / "img").iterdir())[-1]) as im:
            modes[seq] = im.mode
    assert modes == {"David": "L", "Synth02": "L", "Synth01": "RGB", "Jogging": "RGB"}


# ---------------------------------------------------------------- determinism and atomicity

TINY = SyntheticConfig.preset("smoke", vid_train_videos=2, vid_val_videos=1, vid_frames=8,
                              otb_sequences=("Jogging", "Synth01"), otb_frames=8)


def test_same_seed_same_bytes_other_seed_differs(tmp_path, monkeypatch):
    """Same bytes again, and whatever the number of processes rendering ("a": two, "b": one)."""
    quiet = {"log": lambda line: None}
    for name, cores in (("a", 2), ("b", 1)):
        monkeypatch.setattr(workers, "usable_cores", lambda cores=cores: cores)
        generate_vid(tmp_path / name / "vid", TINY, **quiet)
        generate_otb(tmp_path / name / "otb", TINY, **quiet)
    other = SyntheticConfig(**{**TINY.__dict__, "seed": TINY.seed + 1})
    generate_vid(tmp_path / "c" / "vid", other, **quiet)
    for kind in ("vid", "otb"):
        a, b = _files(tmp_path / "a" / kind), _files(tmp_path / "b" / kind)
        assert a == b
    a, c = _files(tmp_path / "a" / "vid"), _files(tmp_path / "c" / "vid")
    first = "Data/VID/train/ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000/000000.JPEG"
    assert a[first] != c[first]


def test_ensure_is_idempotent_and_repairs(tmp_path):
    lines: list[str] = []
    vid, otb = tmp_path / "vid", tmp_path / "otb"
    first = ensure_embedded_datasets(vid, otb, TINY, log=lines.append)
    assert first["vid"]["status"] == first["otb"]["status"] == "generated"
    before = _files(vid)
    stamp = (vid / MARKER).stat().st_mtime_ns
    again = ensure_embedded_datasets(vid, otb, TINY, log=lines.append)
    assert again["vid"]["status"] == again["otb"]["status"] == "present"
    assert (vid / MARKER).stat().st_mtime_ns == stamp and again["vid"]["frames"] == first["vid"]["frames"]
    provenance = json.loads((vid / "SYNTHETIC.json").read_text())
    assert provenance["synthetic"] is True and provenance["config"]["seed"] == TINY.seed
    # A tree without its completion marker (crash, tampering) is rebuilt, not used.
    (vid / MARKER).unlink()
    next(iter((vid / "Data").rglob("*.JPEG"))).unlink()
    repaired = ensure_embedded_datasets(vid, None, TINY, log=lines.append)
    assert repaired["vid"]["status"] == "generated" and _files(vid) == before
    # Another config: regenerated.
    changed = SyntheticConfig(**{**TINY.__dict__, "vid_frames": 9})
    assert ensure_embedded_datasets(vid, None, changed, log=lines.append)["vid"]["status"] == "generated"
    assert not list(tmp_path.glob(".*")), "build folders left behind"
    assert any("generating" in line for line in lines) and any("reusing" in line for line in lines)


def test_ensure_never_touches_a_real_dataset(tmp_path):
    real = tmp_path / "OTB"
    (real / "Basketball" / "img").mkdir(parents=True)
    (real / "Basketball" / "groundtruth_rect.txt").write_text("1,2,3,4\n")
    out = ensure_embedded_datasets(None, real, TINY, log=lambda line: None)
    assert out["otb"]["status"] == "not synthetic"
    assert sorted(p.name for p in real.iterdir()) == ["Basketball"]
    with pytest.raises(FileExistsError):
        generate_otb(real, TINY, log=lambda line: None)


def test_previews_render(trees, tmp_path):
    from siamfc_lib.visualisation.dataset_preview import render_otb_preview, render_vid_preview

    vid, otb = trees
    for path in (render_vid_preview(vid, tmp_path / "vid.png", n=4), render_otb_preview(otb, tmp_path / "otb.png")):
        with Image.open(path) as im:
            assert im.size[0] > 200


def test_otb_attributes_follow_the_otb_definitions():
    from siamfc_lib.data.synthetic.otb import attributes

    still = {"occlusion": False, "lookalikes": 0, "motion_blur": False}
    steady = [[10, 10, 40, 40], [12, 10, 40, 40]]
    assert attributes(np.array(steady), still) == []
    grown = [[10, 10, 40, 40], [-15, -15, 90, 90]]        # same centre, side ratio 2.25 > 2: scale variation
    jump = [[10, 10, 40, 40], [40, 10, 40, 40]]           # 30 px centre motion > 20: fast motion
    tiny = [[10, 10, 15, 20], [10, 10, 15, 20]]           # 300 px < 400: low resolution
    assert attributes(np.array(grown), still) == ["SV"]
    assert attributes(np.array(jump), still) == ["FM"]
    assert attributes(np.array(tiny), still) == ["LR"]
    busy = {"occlusion": True, "lookalikes": 2, "motion_blur": True}
    assert attributes(np.array(steady), busy) == ["OCC", "MB", "BC"]


def test_generated_trees_read_back_through_the_project_loaders(trees):
    """The same code paths as the real datasets: VID reader and OTB loader, every quirk."""
    from siamfc_lib.data.otb import OTBDataset
    from siamfc_lib.data.vid import find_videos, read_video

    vid, otb = trees
    videos = [read_video(ref) for ref in find_videos(vid)]
    assert videos and all(v.tracks for v in videos)
    ds = OTBDataset(otb)
    assert {"Jogging.1", "Jogging.2", "Human4", "Board", "BlurCar3", "David", "Football1", "Tiger1"} <= set(ds.names)
    for seq in ds:
        assert len(seq.img_files) == len(seq.gt) > 0, seq.name
        assert np.all(seq.gt[:, 2:] > 0), seq.name
        h, w = seq.frame(0).shape[:2]
        assert seq.frame(0).shape[2] == 3  # grayscale sequences come back as RGB
        assert np.all(seq.gt[:, 0] + seq.gt[:, 2] - 1 <= w) and np.all(seq.gt[:, 1] + seq.gt[:, 3] - 1 <= h)
    assert ds["David"].img_files[0].name == "0300.jpg"
    assert ds["BlurCar3"].img_files[0].name == "0003.jpg"
    assert ds["Board"].img_files[0].name == "00001.jpg"


def _lookalikes(scene) -> int:
    """Unannotated layers cut from the same part of the same photo as an annotated one."""
    tracked = {(l.sprite.source, l.sprite.shape) for l in scene.layers if l.track_id is not None}
    return sum(1 for l in scene.layers if l.track_id is None and (l.sprite.source, l.sprite.shape) in tracked)


def test_vid_lookalikes_appear_only_when_asked_and_stay_unannotated():
    from siamfc_lib.data.synthetic.vid import build_scene, snippet_folders

    snippets = [s for s in snippet_folders(12, 0) if s.scenario != "lookalikes"]
    never = SyntheticConfig.preset("smoke", vid_train_videos=12, vid_val_videos=0, vid_lookalike_prob=0.0)
    always = SyntheticConfig.preset("smoke", vid_train_videos=12, vid_val_videos=0, vid_lookalike_prob=1.0)
    for snip in snippets:
        plain, _ = build_scene(never, snip)
        busy, _ = build_scene(always, snip)
        tracks = [sorted(l.track_id for l in scene.layers if l.track_id is not None) for scene in (plain, busy)]
        assert tracks[0] == tracks[1] and tracks[0], snip      # the same annotated tracks, nothing added
        assert 1 <= _lookalikes(busy) - _lookalikes(plain) <= 2, snip


def test_preset_overrides_are_typed_like_params_files():
    """A YAML list (--data, params) becomes the tuple the fingerprint expects; a misspelt name is an error."""
    from siamfc_lib.config import ConfigError

    cfg = SyntheticConfig.preset("smoke", otb_sequences=["Jogging", "Synth01"], vid_lookalike_prob=1)
    assert cfg.otb_sequences == ("Jogging", "Synth01") and cfg.vid_lookalike_prob == 1.0
    with pytest.raises(ConfigError, match="vid_videos"):
        SyntheticConfig.preset("demo", vid_videos=3)
