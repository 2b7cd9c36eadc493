"""Tiny ILSVRC2015-VID trees for tests: frames written with cv2, XML in the real element order."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from siamfc_lib.data import vid_xml

def frame_xml(folder: str, frame: int, size: tuple[int, int], objects: list[dict]) -> str:
    """objects: dicts with trackid, wnid, box=(xmin, ymin, xmax, ymax), occluded, generated."""
    return vid_xml.frame_xml(folder, f"{frame:06d}", size[0], size[1], [
        vid_xml.VidObject(o["trackid"], o.get("wnid", "n02084071"), tuple(o["box"]), bool(o.get("occluded", 0)),
                          bool(o.get("generated", 0))) for o in objects])


def video_dirs(root: Path, subset: str, video: str, batch: int = 0) -> tuple[Path, Path]:
    rel = Path("VID") / subset
    if subset == "train":
        rel = rel / f"ILSVRC2015_VID_train_{batch:04d}"
    rel = rel / video
    return root / "Data" / rel, root / "Annotations" / rel


def frame_image(size: tuple[int, int], frame: int, seed: int = 0) -> np.ndarray:
    """A smooth, deterministic BGR frame (compresses small, decodes the same everywhere)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)),
                    np.full_like(xx, (40 * frame + 17 * seed) % 256)], axis=-1)
    return img.astype(np.uint8)


def write_video(root: Path, subset: str, video: str, frames: dict[int, list[dict]], size=(64, 48),
                batch: int = 0, seed: int = 0) -> tuple[Path, Path]:
    """One snippet: a JPEG and an XML per frame number in ``frames``."""
    data_dir, anno_dir = video_dirs(root, subset, video, batch)
    data_dir.mkdir(parents=True, exist_ok=True)
    anno_dir.mkdir(parents=True, exist_ok=True)
    folder = f"{data_dir.parent.name}/{video}" if subset == "train" else video
    for frame, objects in frames.items():
        cv2.imwrite(str(data_dir / f"{frame:06d}.JPEG"), frame_image(size, frame, seed))
        (anno_dir / f"{frame:06d}.xml").write_text(frame_xml(folder, frame, size, objects))
    return data_dir, anno_dir


def moving_track(n: int, trackid: int = 0, start=(10, 8), size=(20, 16), step=2, **extra) -> dict[int, list[dict]]:
    frames = {}
    for f in range(n):
        x, y = start[0] + step * f, start[1] + step * f
        frames[f] = [{"trackid": trackid, "box": (x, y, x + size[0] - 1, y + size[1] - 1), **extra}]
    return frames


def make_small_root(root: Path, videos: int = 4, frames: int = 6, size=(64, 48)) -> Path:
    """A clean root: ``videos`` train snippets (two batches) + one val snippet, two tracks each."""
    for v in range(videos):
        per_frame = moving_track(frames, 0, start=(4 + v, 4))
        for f, objs in moving_track(frames, 1, start=(30, 20 - v), size=(10, 12), step=1).items():
            per_frame[f] = per_frame[f] + objs
        write_video(root, "train", f"ILSVRC2015_train_{v:05d}000", per_frame, size, batch=v % 2, seed=v)
    write_video(root, "val", "ILSVRC2015_val_00000000", moving_track(frames, 0), size, seed=99)
    return root


class CropKeyDataset:
    """A minimal torch-style dataset over a crop store (module-level so spawn can import it)."""

    def __init__(self, store, keys: list[str]):
        self.store, self.keys = store, keys

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int):
        import os

        rgb = self.store.get_rgb(self.keys[i])
        return i, os.getpid(), int(rgb.astype(np.int64).sum()), rgb.shape


def legacy_manifest_json(manifest) -> str:
    """The first manifest format (``siamfc-curation/1``, ``manifest.json``) of ``manifest``, as the
    project wrote it before the columnar one: what users' older curated folders hold."""
    import json
    from dataclasses import asdict

    keep = ("instance_size", "exemplar_size", "context", "jpeg_quality", "source", "skipped")
    return json.dumps({"format": "siamfc-curation/1", "videos": [asdict(v) for v in manifest.videos],
                       **{k: manifest.meta[k] for k in keep}})


def write_columns_v2(manifest, path: Path) -> None:
    """``manifest`` in the columns format ``siamfc-curation/2`` (names and subsets as header lists), as
    the project wrote it before the names became one block: what users' curated folders may hold."""
    import json

    magic, align = b"SIAMFC-COLUMNS/2", 64
    names = ["frame_size", "video_track_start", "trackid", "track_wnid", "track_video", "track_crop_start",
             "frame", "box", "crop_box", "occluded", "generated"]
    meta = {k: v for k, v in manifest.meta.items() if k != "subset_names"}
    meta["videos"] = list(manifest.video_names)
    meta["subsets"] = [manifest.subset_names[c] for c in manifest.video_subset]
    arrays, layout, offset = [], {}, 0
    for name in names:
        arr = np.ascontiguousarray(manifest.columns[name])
        layout[name] = [arr.dtype.str, list(arr.shape), offset]
        arrays.append(arr)
        offset += -(-arr.nbytes // align) * align
    header = json.dumps({"format": "siamfc-curation/2", "meta": meta, "arrays": layout}, sort_keys=True,
                        separators=(",", ":")).encode()
    start = -(-(len(magic) + 8 + len(header)) // align) * align
    with open(path, "wb") as f:
        f.write(magic + len(header).to_bytes(8, "little") + header + b"\0" * (start - len(magic) - 8 - len(header)))
        for arr in arrays:
            f.write(arr.tobytes() + b"\0" * (-arr.nbytes % align))
