"""The curation manifest: which crops exist, for which track, with which boxes.

Columnar, because the full ILSVRC2015-VID has about 2.4M crops: one numpy array per field
(54 bytes per crop, no per-crop Python objects), and the video names as one block of UTF-8
bytes with offsets (no Python string per video until one is asked for). Written by
:mod:`siamfc_lib.data.curate` as ``<data_path>/manifest.columns``: a magic line, the length of
a JSON header, the header (metadata, per-video strings, each array's dtype, shape and
offset), then the arrays, 64-byte aligned. Loading maps the file read-only, so it takes well
under a second, costs only the pages a process touches, and forked DataLoader workers share
those pages without copy-on-write growth. The bytes depend only on the content (no
timestamps), so an interrupted and resumed curation writes the same file.

Arrays: per video ``frame_size`` (V, 2), ``video_track_start`` (V + 1, offsets into the
tracks), ``video_subset`` (index into the header's ``subset_names``) and ``video_name_start``
(V + 1, offsets into ``video_name_bytes``, the names' UTF-8); per track ``trackid``, ``track_wnid`` (index into the header's ``wnids``),
``track_video`` and ``track_crop_start`` (T + 1, offsets into the crops); per crop ``frame``,
``box`` (VID XML corners xmin, ymin, xmax, ymax), ``crop_box`` (cx, cy, w, h inside the
crop), ``occluded`` and ``generated``.

Manifests of format ``siamfc-curation/2`` (names and subsets as JSON lists in the header) are
still read as they are. The first format, ``manifest.json`` (``siamfc-curation/1``: ``{"videos": [{"video", "subset",
"frame_size", "tracks": [{"trackid", "wnid", "frames", "boxes", "crop_boxes", "occluded",
"generated"}]}], ...}``), is still read: on first load it is converted and the columns are
written beside it (when the folder is writable), so earlier curations need no redoing.

A crop's key (file path relative to ``data_path``, also its LMDB key) is
``<video>/<frame:06d>.<trackid:02d>.x.jpg``.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io_utils import atomic_open
from ..paths import not_found

MANIFEST_FILE = "manifest.columns"
MANIFEST_FORMAT = "siamfc-curation/3"
READABLE_FORMATS = ("siamfc-curation/2", MANIFEST_FORMAT)   # /2: names and subsets as header lists
LEGACY_JSON_FILE = "manifest.json"         # the first format, still read
LEGACY_JSON_FORMAT = "siamfc-curation/1"
MAGIC = b"SIAMFC-COLUMNS/2"                # 16 bytes, then the header length (8 bytes, little-endian)
ALIGN = 64
# name -> (dtype, per-row shape, level)
COLUMNS = {
    "frame_size": ("<i4", (2,), "video"), "video_track_start": ("<i8", (), "video+1"),
    "trackid": ("<i4", (), "track"), "track_wnid": ("<i2", (), "track"), "track_video": ("<i4", (), "track"),
    "track_crop_start": ("<i8", (), "track+1"),
    "frame": ("<i4", (), "crop"), "box": ("<f4", (4,), "crop"), "crop_box": ("<f8", (4,), "crop"),
    "occluded": ("u1", (), "crop"), "generated": ("u1", (), "crop"),
    "video_subset": ("u1", (), "video"), "video_name_start": ("<i8", (), "names+1"),
    "video_name_bytes": ("u1", (), "name bytes"),
}
NAME_COLUMNS = ("video_subset", "video_name_start", "video_name_bytes")   # not in siamfc-curation/2
META_DEFAULTS = {"instance_size": 255, "exemplar_size": 127, "context": 0.5, "jpeg_quality": 90, "source": "",
                 "skipped": {}}


def _aligned(n: int) -> int:
    """``n`` rounded up to the next multiple of :data:`ALIGN`."""
    return -(-n // ALIGN) * ALIGN


def crop_key(video: str, frame: int, trackid: int) -> str:
    return f"{video}/{int(frame):06d}.{int(trackid):02d}.x.jpg"


@dataclass
class Track:
    """One track as plain lists: a curation record's unit, and what :attr:`Manifest.videos` gives."""
    trackid: int
    wnid: str
    frames: list[int]
    boxes: list[list[float]]
    crop_boxes: list[list[float]]
    occluded: list[int] = field(default_factory=list)
    generated: list[int] = field(default_factory=list)

    def keys(self, video: str) -> list[str]:
        return [crop_key(video, f, self.trackid) for f in self.frames]


@dataclass
class Video:
    video: str
    subset: str
    frame_size: list[int]
    tracks: list[Track]


class NameBlock(Sequence):
    """The video names, decoded from one UTF-8 block on demand (a Python list of 4,417 names costs
    about 350 bytes each in every process that holds the manifest)."""

    def __init__(self, data: np.ndarray, starts: np.ndarray):
        self._data, self._starts = data, starts

    @classmethod
    def of(cls, names: Sequence[str]) -> "NameBlock":
        encoded = [n.encode("utf-8") for n in names]
        starts = np.concatenate([[0], np.cumsum([len(e) for e in encoded], dtype=np.int64)]).astype("<i8")
        return cls(np.frombuffer(b"".join(encoded), dtype="u1"), starts)

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        a, b = int(self._starts[i]), int(self._starts[i + 1])
        return self._data[a:b].tobytes().decode("utf-8")

    def __iter__(self):
        return (self[i] for i in range(len(self)))


class KeyList(Sequence):
    """Every crop key, in manifest order, made on demand (2.4M strings would cost ~300 MB)."""

    def __init__(self, manifest: "Manifest"):
        self._m = manifest

    def __len__(self) -> int:
        return self._m.num_crops()

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._m.key(j) for j in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"crop index {i} out of range ({n} crops)")
        return self._m.key(i % n)

    def __iter__(self):
        return self._m.iter_keys()


class ColumnsBuilder:
    """Appends videos (dicts in the record/JSON form) as small arrays; :meth:`finish` concatenates."""

    def __init__(self):
        self.names: list[str] = []
        self.subsets: list[str] = []
        self.wnids: dict[str, int] = {}
        self.parts: dict[str, list[np.ndarray]] = {name: [] for name in COLUMNS}
        self.tracks = 0
        self.crops = 0

    @staticmethod
    def part(video: dict) -> dict:
        """One video's arrays (a few small arrays instead of its per-crop lists)."""
        tracks = video["tracks"]
        crops = {"frame": [], "box": [], "crop_box": [], "occluded": [], "generated": []}
        for t in tracks:
            n = len(t["frames"])
            crops["frame"].append(np.asarray(t["frames"], "<i4"))
            crops["box"].append(np.asarray(t["boxes"], "<f4").reshape(n, 4))
            crops["crop_box"].append(np.asarray(t["crop_boxes"], "<f8").reshape(n, 4))
            crops["occluded"].append(np.asarray(t.get("occluded") or [0] * n, "u1"))
            crops["generated"].append(np.asarray(t.get("generated") or [0] * n, "u1"))
        return {"video": video["video"], "subset": video["subset"],
                "frame_size": np.asarray(video["frame_size"], "<i4").reshape(1, 2),
                "trackid": np.asarray([t["trackid"] for t in tracks], "<i4"),
                "wnids": [t["wnid"] for t in tracks],
                "lengths": np.asarray([len(t["frames"]) for t in tracks], "<i8"),
                **{k: np.concatenate(v) if v else np.zeros((0, *COLUMNS[k][1]), COLUMNS[k][0])
                   for k, v in crops.items()}}

    def add(self, video: dict) -> None:
        """Append a video given as a record/JSON dict or as :meth:`part`'s arrays."""
        part = video if "lengths" in video else self.part(video)
        p = self.parts
        v = len(self.names)
        self.names.append(part["video"])
        self.subsets.append(part["subset"])
        lengths = part["lengths"]
        p["frame_size"].append(part["frame_size"])
        p["video_track_start"].append(np.asarray([self.tracks], "<i8"))
        p["trackid"].append(part["trackid"])
        p["track_wnid"].append(np.asarray([self.wnids.setdefault(w, len(self.wnids)) for w in part["wnids"]], "<i2"))
        p["track_video"].append(np.full(len(lengths), v, "<i4"))
        p["track_crop_start"].append(self.crops + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype("<i8")
                                     if len(lengths) else np.zeros(0, "<i8"))
        for name in ("frame", "box", "crop_box", "occluded", "generated"):
            p[name].append(part[name])
        self.tracks += len(lengths)
        self.crops += int(lengths.sum())

    def finish(self, **meta) -> "Manifest":
        columns = {}
        subset_names = sorted(set(self.subsets))
        block = NameBlock.of(self.names)
        columns["video_name_bytes"], columns["video_name_start"] = block._data, block._starts
        columns["video_subset"] = np.asarray([subset_names.index(s) for s in self.subsets], "u1")
        for name, (dtype, shape, level) in COLUMNS.items():
            if name in NAME_COLUMNS:
                continue
            parts = self.parts[name]
            if level == "video+1":
                parts = parts + [np.asarray([self.tracks], dtype)]
            elif level == "track+1":
                parts = parts + [np.asarray([self.crops], dtype)]
            columns[name] = np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros((0, *shape), dtype)
            self.parts[name] = []
        meta = {**META_DEFAULTS, **meta, "subset_names": subset_names,
                "wnids": sorted(self.wnids, key=self.wnids.get)}
        return Manifest(columns, meta)


class Manifest:
    """The curated crops, as columns (see the module docstring)."""

    def __init__(self, columns: dict[str, np.ndarray], meta: dict):
        if "videos" in meta:        # siamfc-curation/2: names and subsets were header lists
            meta = dict(meta)
            names, subsets = meta.pop("videos"), meta.pop("subsets")
            block = NameBlock.of(names)
            meta["subset_names"] = sorted(set(subsets))
            columns = {**columns, "video_name_bytes": block._data, "video_name_start": block._starts,
                       "video_subset": np.asarray([meta["subset_names"].index(x) for x in subsets], "u1")}
        self.columns = columns
        self.meta = meta
        self.video_names = NameBlock(columns["video_name_bytes"], columns["video_name_start"])
        self.subset_names: list[str] = list(meta["subset_names"])
        self.wnids: list[str] = list(meta["wnids"])
        self.instance_size = int(meta["instance_size"])
        self.exemplar_size = int(meta["exemplar_size"])
        self.context = float(meta["context"])
        self.jpeg_quality = int(meta["jpeg_quality"])
        self.source = str(meta["source"])
        self.skipped: dict[str, int] = dict(meta["skipped"])
        for name in COLUMNS:
            setattr(self, name, columns[name])
        self.path: Path | None = None

    @property
    def subsets(self) -> list[str]:
        """Each video's subset ("train", "val", "got10k-train"...), in manifest order."""
        return [self.subset_names[c] for c in self.video_subset]

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def from_videos(cls, videos: list[Video], instance_size: int = 255, exemplar_size: int = 127,
                    context: float = 0.5, jpeg_quality: int = 90, source: str = "",
                    skipped: dict[str, int] | None = None) -> "Manifest":
        from dataclasses import asdict

        builder = ColumnsBuilder()
        for video in videos:
            builder.add(asdict(video) if isinstance(video, Video) else video)
        return builder.finish(instance_size=instance_size, exemplar_size=exemplar_size, context=context,
                              jpeg_quality=jpeg_quality, source=source, skipped=dict(skipped or {}))

    # -- counts and keys -----------------------------------------------------------------------
    def num_crops(self) -> int:
        return int(self.track_crop_start[-1])

    def num_tracks(self) -> int:
        return len(self.trackid)

    def track_lengths(self) -> np.ndarray:
        return np.diff(self.track_crop_start)

    def track_of_crop(self, i: int) -> int:
        return int(np.searchsorted(self.track_crop_start, i, side="right")) - 1

    def key(self, i: int) -> str:
        """Key of crop ``i`` (manifest order)."""
        t = self.track_of_crop(i)
        return crop_key(self.video_names[self.track_video[t]], self.frame[i], self.trackid[t])

    def keys(self) -> KeyList:
        return KeyList(self)

    def iter_keys(self, sorted_like_lmdb: bool = False):
        """Keys in manifest order, or in byte order (video name, frame, trackid) for LMDB appends."""
        order = sorted(range(len(self.video_names)), key=self.video_names.__getitem__) \
            if sorted_like_lmdb else range(len(self.video_names))
        starts, vts = self.track_crop_start, self.video_track_start
        for v in order:
            name, t0, t1 = self.video_names[v], int(vts[v]), int(vts[v + 1])
            c0, c1 = int(starts[t0]), int(starts[t1])
            frames = self.frame[c0:c1]
            tids = np.repeat(self.trackid[t0:t1], np.diff(starts[t0:t1 + 1]))
            idx = np.lexsort((tids, frames)) if sorted_like_lmdb else range(c1 - c0)
            for j in idx:
                yield crop_key(name, frames[j], tids[j])

    def fingerprint(self) -> str:
        """Digest of which crops exist (not their boxes): tells an LMDB packed from it."""
        h = hashlib.sha1()
        h.update("\n".join(self.video_names).encode())
        for name in ("video_track_start", "trackid", "track_crop_start", "frame"):
            h.update(np.ascontiguousarray(self.columns[name]).tobytes())
        return h.hexdigest()

    # -- the per-object view (small manifests: tests, plots of a few crops) --------------------
    def video(self, v: int) -> Video:
        tracks = []
        for t in range(int(self.video_track_start[v]), int(self.video_track_start[v + 1])):
            a, b = int(self.track_crop_start[t]), int(self.track_crop_start[t + 1])
            tracks.append(Track(int(self.trackid[t]), self.wnids[self.track_wnid[t]], self.frame[a:b].tolist(),
                                self.box[a:b].astype(float).tolist(), self.crop_box[a:b].tolist(),
                                self.occluded[a:b].tolist(), self.generated[a:b].tolist()))
        return Video(self.video_names[v], self.subset_names[self.video_subset[v]], self.frame_size[v].tolist(), tracks)

    @property
    def videos(self) -> list[Video]:
        """Every video as Python objects: O(crops) objects, so for small manifests only."""
        return [self.video(v) for v in range(len(self.video_names))]

    # -- disk ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the columns file atomically; ``path`` a folder means its ``manifest.columns``."""
        path = Path(path)
        if path.is_dir() or path.name == LEGACY_JSON_FILE:
            path = (path if path.is_dir() else path.parent) / MANIFEST_FILE
        arrays, offset, layout = [], 0, {}
        for name in COLUMNS:
            arr = np.ascontiguousarray(self.columns[name])
            layout[name] = [arr.dtype.str, list(arr.shape), offset]
            arrays.append(arr)
            offset += _aligned(arr.nbytes)
        header = json.dumps({"format": MANIFEST_FORMAT, "meta": self.meta, "arrays": layout},
                            sort_keys=True, separators=(",", ":")).encode()
        start = _aligned(len(MAGIC) + 8 + len(header))
        with atomic_open(path) as f:   # streamed (no second copy in memory); a crash leaves the old file or none
            f.write(MAGIC + len(header).to_bytes(8, "little") + header)
            f.write(b"\0" * (start - len(MAGIC) - 8 - len(header)))
            for arr in arrays:
                f.write(memoryview(arr.reshape(-1)).cast("B") if arr.size else b"")
                f.write(b"\0" * (_aligned(arr.nbytes) - arr.nbytes))
        return path

    @classmethod
    def load(cls, path: str | Path, convert: bool = True) -> "Manifest":
        """The manifest of a curated folder (or of a given file), in either format.

        A folder with only the first format's ``manifest.json`` (or a newer one than its
        columns) is converted, and the columns are written beside it when ``convert`` and the
        folder is writable.
        """
        path = Path(path)
        folder = path.parent if path.is_file() or path.name in (MANIFEST_FILE, LEGACY_JSON_FILE) else path
        columns, legacy = folder / MANIFEST_FILE, folder / LEGACY_JSON_FILE
        if path.is_file() and path.name not in (MANIFEST_FILE, LEGACY_JSON_FILE):
            columns, legacy = path, None   # an explicitly named columns file
        if path.name == LEGACY_JSON_FILE:
            columns = None
        newer_legacy = legacy is not None and legacy.exists() and columns is not None and columns.exists() \
            and legacy.stat().st_mtime > columns.stat().st_mtime
        if columns is not None and columns.exists() and not newer_legacy:
            return _open_columns(columns)
        if legacy is None or not legacy.exists():
            named = path if path.name in (MANIFEST_FILE, LEGACY_JSON_FILE) else folder / MANIFEST_FILE
            raise not_found(f"no curation manifest ({MANIFEST_FILE} or {LEGACY_JSON_FILE}; is data_path the "
                            "curated folder?)", named, "curation")
        manifest = _read_json(legacy)
        if convert:
            try:
                manifest.path = manifest.save(folder / MANIFEST_FILE)
            except OSError:
                pass  # a read-only folder: the conversion stays in memory
        return manifest


# One Manifest per file per process: the notebook's and the trainer's are the same object (and so
# are the pages they map), instead of a second header parse and a second mapping.
_OPEN: "weakref.WeakValueDictionary[tuple, Manifest]" = weakref.WeakValueDictionary()


def _open_columns(path: Path) -> Manifest:
    st = path.stat()
    key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    manifest = _OPEN.get(key)
    if manifest is None:
        manifest = _read_columns(path)
        manifest.path = path
        _OPEN[key] = manifest
    return manifest


def _read_json(path: Path) -> Manifest:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: corrupt manifest ({exc}); delete it and rerun 01_curate") from exc
    if d.get("format") != LEGACY_JSON_FORMAT:
        raise ValueError(f"{path}: not a {LEGACY_JSON_FORMAT} manifest (format={d.get('format')!r})")
    builder = ColumnsBuilder()
    videos = d.pop("videos")
    videos.reverse()
    while videos:  # drop each video's lists as soon as they are columns
        builder.add(videos.pop())
    return builder.finish(**{k: d[k] for k in META_DEFAULTS if k in d})


def _read_columns(path: Path) -> Manifest:
    def corrupt(why: str) -> ValueError:
        return ValueError(f"{path}: corrupt manifest ({why}); delete it and rerun 01_curate")

    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < len(MAGIC) + 8:
            raise corrupt(f"{size} bytes")
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if buf[:len(MAGIC)] != MAGIC:
        raise corrupt("not a manifest.columns file")
    n = int.from_bytes(buf[len(MAGIC):len(MAGIC) + 8], "little")
    try:
        header = json.loads(buf[len(MAGIC) + 8:len(MAGIC) + 8 + n])
    except ValueError as exc:
        raise corrupt(f"header: {exc}") from exc
    if header.get("format") not in READABLE_FORMATS:
        raise ValueError(f"{path}: not a {MANIFEST_FORMAT} manifest (format={header.get('format')!r})")
    start = _aligned(len(MAGIC) + 8 + n)
    columns = {}
    for name in COLUMNS:
        if name not in header["arrays"]:
            if name in NAME_COLUMNS and "videos" in header["meta"]:
                continue               # siamfc-curation/2: the names are in the header
            raise corrupt(f"no column {name}")
        dtype, shape, offset = header["arrays"][name]
        dtype = np.dtype(dtype)
        count = int(np.prod(shape))
        if start + offset + count * dtype.itemsize > size:
            raise corrupt(f"truncated at column {name}")
        columns[name] = (np.frombuffer(buf, dtype, count, start + offset) if count
                         else np.zeros(0, dtype)).reshape(shape)
    return Manifest(columns, header["meta"])


def curation_sources(data_path: str | Path) -> list[dict]:
    """What a curated folder was made from: ``[{"kind": "vid" | "got10k", "root": ..., "subsets": [...]}]``.

    Manifests written before GOT-10k was a source name one VID tree (``source``); they read as that.
    """
    data_path = Path(data_path)
    if (data_path / MANIFEST_FILE).exists():
        meta = Manifest.load(data_path, convert=False).meta
        if meta.get("sources"):
            return [dict(s) for s in meta["sources"]]
        return [{"kind": "vid", "root": str(meta.get("source", "")), "subsets": ["train", "val"]}]
    return [{"kind": "vid", "root": str(curation_source(data_path)), "subsets": ["train", "val"]}]


def curation_source(data_path: str | Path) -> Path:
    """The VID tree a curated folder was made from, without reading the whole manifest.

    A real-scale manifest is hundreds of MB: the columnar one is memory-mapped (its header holds
    ``source``); of a first-format ``manifest.json`` only the tail, where ``source`` is, is read.
    """
    data_path = Path(data_path)
    if (data_path / MANIFEST_FILE).exists():
        return Path(Manifest.load(data_path, convert=False).source)
    with open(data_path / LEGACY_JSON_FILE, "rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 65536))
        tail = f.read().decode("utf-8", "replace")
    found = re.findall(r'"source":\s*"((?:[^"\\]|\\.)*)"', tail)
    if not found:
        raise ValueError(f"{data_path / LEGACY_JSON_FILE} names no source")
    return Path(json.loads('"' + found[-1] + '"'))
