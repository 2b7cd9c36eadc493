"""ILSVRC2015-VID and/or GOT-10k train -> SiamFC instance crops (255x255 JPEG) + a columnar manifest,
resumable.

``source`` picks the videos: ``vid`` (ILSVRC2015-VID, :mod:`.vid`), ``got10k`` (GOT-10k's train
split, :mod:`.got10k_train`: one track per video, absent and invisible frames skipped) or
``both``, all into the same crop folder, manifest and LMDB; a GOT-10k video is turned into VID's
tracks-of-corners form, so what follows is the same code for both.

For every valid box: the square of side ``s_x = s_z * 255 / 127`` (``s_z`` from the paper's
context rule) around the box centre, resized to 255x255 in one affine warp, padded with the
frame's mean colour, written as ``<data_path>/<video>/<frame:06d>.<trackid:02d>.x.jpg``.

Resumable: a worker writes a video's crops, then its record ``<data_path>/.records/<video>.json``
atomically, last. A rerun skips videos whose record matches the settings and wipes and redoes
the others, so a run killed at any moment (even kill -9) ends, when rerun, byte-identical to an
uninterrupted one. The manifest is assembled from the records, sorted, at the very end, as
columns (:mod:`siamfc_lib.data.manifest`); it also names the settings and the videos, so a
rerun with nothing to do stops there without reading a record.
"""
from __future__ import annotations

import hashlib

import json
import multiprocessing
import os
import shutil
import signal
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from ..boxes import exemplar_context_size, vid_corners_to_cxcywh
from ..cores import usable_cores
from ..config.data import CurateConfig
from ..io_utils import atomic_write_text
from ..progress import track as progress_track
from .crops import box_in_crop, crop_square
from .got10k_train import EXPECTED_LAYOUT as GOT10K_LAYOUT, find_got10k_videos, read_got10k_video
from .manifest import MANIFEST_FILE, LEGACY_JSON_FILE, ColumnsBuilder, Manifest, Track, Video, crop_key
from .vid import BoxFilter, VideoRef, VidFormatError, EXPECTED_LAYOUT, find_videos, read_video

RECORDS_DIR = ".records"
SOURCES = ("vid", "got10k", "both")
MAX_PROBLEMS = 20          # per video: the files named in its record (all are counted in "skipped")


def instance_region(corners, context: float, exemplar_size: int, instance_size: int) -> tuple[float, float, float]:
    """``(cx, cy, s_x)`` of the instance crop for a box given as VID XML corners."""
    cx, cy, w, h = vid_corners_to_cxcywh(corners)
    s_z = float(exemplar_context_size(w, h, context))
    return float(cx), float(cy), s_z * instance_size / exemplar_size


def instance_crop(image: np.ndarray, corners, cfg: CurateConfig, pad_color=None) -> tuple[np.ndarray, list[float]]:
    """The crop and the box's ``cx, cy, w, h`` inside it (crop pixels)."""
    cx, cy, s_x = instance_region(corners, cfg.context, cfg.exemplar_size, cfg.instance_size)
    crop = crop_square(image, cx, cy, s_x, cfg.instance_size, pad_color=pad_color)
    inside = box_in_crop(vid_corners_to_cxcywh(corners), cx, cy, s_x, cfg.instance_size)
    return crop, [round(float(v), 4) for v in inside]


def decode_frame(path: Path) -> tuple[np.ndarray | None, str | None]:
    """BGR frame, or the skip reason. A JPEG without its end marker counts as truncated
    (OpenCV would otherwise decode it with a grey bottom and only a warning)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None, "frame.missing_jpeg"
    if b"\xff\xd9" not in data[-64:]:
        return None, "frame.corrupt_jpeg"
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return (None, "frame.corrupt_jpeg") if image is None else (image, None)


def settings_fingerprint(cfg: CurateConfig) -> dict:
    """What makes a video's output differ: a record with other settings is redone."""
    keep = ("jpeg_quality", "context", "exemplar_size", "instance_size", "min_box_size", "max_aspect",
            "skip_generated", "skip_outside", "min_track_frames")
    return {k: getattr(cfg, k) for k in keep}


def box_filter(cfg: CurateConfig) -> BoxFilter:
    return BoxFilter(cfg.min_box_size, cfg.max_aspect, cfg.skip_generated, cfg.skip_outside, cfg.min_track_frames)


def find_sources(cfg: CurateConfig) -> list[VideoRef]:
    """Every video of the configured source(s): VID snippets, then GOT-10k train videos."""
    if cfg.source not in SOURCES:
        raise ValueError(f"unknown curation source {cfg.source!r}; choose from {SOURCES}")
    refs = find_videos(cfg.vid_root, tuple(cfg.subsets)) if cfg.source in ("vid", "both") else []
    return refs + (find_got10k_videos(cfg.got10k_root) if cfg.source in ("got10k", "both") else [])


def sources_meta(cfg: CurateConfig) -> list[dict]:
    """The manifest's ``sources``: what the crops come from (``curation_sources`` reads it back)."""
    vid = [{"kind": "vid", "root": str(cfg.vid_root), "subsets": list(cfg.subsets)}]
    got10k = [{"kind": "got10k", "root": str(cfg.got10k_root), "subsets": ["train"]}]
    return {"vid": vid, "got10k": got10k, "both": vid + got10k}[cfg.source]


def record_path(data_path: str | Path, video: str) -> Path:
    return Path(data_path) / RECORDS_DIR / f"{video}.json"


def curate_video(ref: VideoRef, cfg: CurateConfig, parent_pid: int | None = None) -> dict:
    """Curate one snippet from scratch and write its record last; returns the record."""
    start = time.perf_counter()
    root = Path(cfg.data_path)
    out_dir = root / ref.name
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    video = (read_got10k_video if ref.kind == "got10k" else read_video)(ref, box_filter(cfg))
    skipped = Counter(video.skipped)
    problems = [list(p) for p in video.problems]
    by_frame: dict[int, list[tuple[int, int]]] = {}
    for t_index, trk in enumerate(video.tracks):
        for i, frame in enumerate(trk.frames):
            by_frame.setdefault(frame, []).append((t_index, i))
    crop_boxes: dict[tuple[int, int], list[float]] = {}
    params = [cv2.IMWRITE_JPEG_QUALITY, int(cfg.jpeg_quality)]
    for frame in sorted(by_frame):
        if parent_pid is not None and os.getppid() != parent_pid:
            raise SystemExit("curation parent died; stopping this worker")  # orphans must not race a rerun
        image, reason = decode_frame(video.frame_files[frame])
        if image is None:
            skipped[reason] += 1
            problems.append([str(video.frame_files[frame]), reason])
            continue
        pad = cv2.mean(image)[:3]  # once per frame, shared by all its objects
        for t_index, i in by_frame[frame]:
            trk = video.tracks[t_index]
            crop, inside = instance_crop(image, trk.boxes[i], cfg, pad)
            ok, jpeg = cv2.imencode(".jpg", crop, params)
            if not ok:
                raise RuntimeError(f"JPEG encoding failed for {ref.name} frame {frame}")
            (root / crop_key(ref.name, frame, trk.trackid)).write_bytes(jpeg.tobytes())
            crop_boxes[(t_index, i)] = inside
    tracks, crops, nbytes = [], 0, 0
    for t_index, trk in enumerate(video.tracks):
        keep = [i for i in range(len(trk.frames)) if (t_index, i) in crop_boxes]
        paths = [root / crop_key(ref.name, trk.frames[i], trk.trackid) for i in keep]
        if len(keep) < cfg.min_track_frames:  # corrupt frames left too few for a pair
            for p in paths:
                p.unlink()
            skipped["track.too_short"] += 1
            continue
        nbytes += sum(p.stat().st_size for p in paths)
        crops += len(keep)
        tracks.append(Track(trk.trackid, trk.wnid, [trk.frames[i] for i in keep],
                            [list(map(float, trk.boxes[i])) for i in keep],
                            [crop_boxes[(t_index, i)] for i in keep],
                            [trk.occluded[i] for i in keep], [trk.generated[i] for i in keep]))
    if not tracks:
        shutil.rmtree(out_dir, ignore_errors=True)
    record = {
        "settings": settings_fingerprint(cfg),
        "video": asdict(Video(ref.name, ref.subset, video.frame_size, tracks)) if tracks else None,
        "skipped": dict(sorted(skipped.items())), "problems": problems[:MAX_PROBLEMS],
        **({"flagged": dict(sorted(video.flagged.items()))} if video.flagged else {}),
        "crops": crops, "bytes": nbytes, "seconds": round(time.perf_counter() - start, 4), "name": ref.name,
    }
    atomic_write_text(record_path(cfg.data_path, ref.name), json.dumps(record, sort_keys=True))
    return record


def _load_record(path: Path, settings: dict) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if record.get("settings") == settings else None


def _die_with_parent() -> None:
    """Pool workers are killed with the curation process (Linux), so no orphan can write a
    video's crops or record while a rerun redoes that video. Elsewhere the per-frame parent
    check in :func:`curate_video` stops them."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _work(job: tuple[VideoRef, CurateConfig, int]) -> dict:
    ref, cfg, parent_pid = job
    return curate_video(ref, cfg, parent_pid)


def _chunk(record: dict) -> tuple[dict | None, dict]:
    """What the manifest keeps of a record: its video as arrays and its counts (the per-crop
    lists are dropped here, so a full-scale run never holds them all)."""
    small = {**{k: record[k] for k in ("skipped", "crops", "bytes")}, "flagged": record.get("flagged", {})}
    return (ColumnsBuilder.part(record["video"]) if record["video"] else None), small


def assemble_manifest(cfg: CurateConfig, refs: list[VideoRef], records: dict[str, tuple[dict | None, dict]],
                      extra: dict | None = None) -> Manifest:
    """Deterministic manifest: videos in (subset, name) order, skip counts summed; ``records``
    maps a video to its :func:`_chunk`, consumed (dropped) as it is added."""
    skipped, flagged = Counter(), Counter()
    builder = ColumnsBuilder()
    for ref in sorted(refs, key=lambda r: (r.subset, r.name)):
        video, small = records.pop(ref.name)
        skipped.update(small["skipped"])
        flagged.update(small.get("flagged", {}))
        if video is not None:
            builder.add(video)
    extra = {**(extra or {}), **({"flagged": dict(sorted(flagged.items()))} if flagged else {})}
    if cfg.source != "vid":    # a VID-only manifest stays byte-identical to those written before GOT-10k
        extra["sources"] = sources_meta(cfg)
    source = cfg.vid_root if cfg.source != "got10k" else cfg.got10k_root
    return builder.finish(instance_size=cfg.instance_size, exemplar_size=cfg.exemplar_size, context=cfg.context,
                          jpeg_quality=cfg.jpeg_quality, source=str(source),
                          skipped=dict(sorted(skipped.items())), **extra)


def _finished(data_path: Path, refs: list[VideoRef], settings: dict) -> Manifest | None:
    """The manifest of a completed run with these settings and these videos, else None: a
    rerun with nothing to do reads no record (a complete manifest is only written after every
    record, and removed before any video is redone)."""
    try:
        manifest = Manifest.load(data_path, convert=False)
    except (FileNotFoundError, ValueError):
        return None
    meta = manifest.meta
    if manifest.path is None or meta.get("settings") != settings:
        return None
    listed = _listing(refs)
    if meta.get("refs_sha1", meta.get("refs")) not in (_listing_digest(listed), listed):
        return None
    return manifest


def _listing(refs: list[VideoRef]) -> list[list[str]]:
    return [[r.subset, r.name] for r in sorted(refs, key=lambda r: (r.subset, r.name))]


def _listing_digest(listing: list[list[str]]) -> str:
    """The videos a curation covers, as a digest in the manifest's header (a list there costs every
    process that opens the manifest a Python object per video; earlier manifests hold the list)."""
    return hashlib.sha1("\n".join(f"{subset}/{name}" for subset, name in listing).encode()).hexdigest()


def _summary(manifest: Manifest, refs, todo, workers: int, new_crops: int, work_seconds: float,
             seconds: float, data_path: Path) -> dict:
    return {
        "videos": len(manifest.video_names), "videos_total": len(refs), "videos_resumed": len(refs) - len(todo),
        "videos_curated": len(todo), "tracks": manifest.num_tracks(),
        "crops": manifest.num_crops(), "crops_this_run": new_crops,
        "bytes": int(manifest.meta.get("bytes", 0)), "skipped": manifest.skipped,
        **({"flagged": manifest.meta["flagged"]} if manifest.meta.get("flagged") else {}),
        "seconds": round(seconds, 3), "workers": workers,
        "crops_per_s": round(new_crops / max(seconds, 1e-9), 1),
        "crops_per_s_per_worker": round(new_crops / max(work_seconds, 1e-9), 1),
        "data_path": str(data_path), "manifest": str(data_path / MANIFEST_FILE),
    }


def _remove_stale_temp_files(data_path: Path) -> None:
    """Temp files of atomic writes killed before their rename (kill -9): never read, only litter."""
    for stale in [*data_path.glob(f".{LEGACY_JSON_FILE}.*.tmp"), *data_path.glob(f".{MANIFEST_FILE}.*.tmp"),
                  *(data_path / RECORDS_DIR).glob(".*.tmp")]:
        stale.unlink(missing_ok=True)


def _curate_videos(todo: list, cfg: CurateConfig, workers: int, progress: bool | None, collect) -> None:
    """Curate ``todo``, in ``workers`` processes when more than one; ``collect`` gets each record."""
    if workers == 1:
        results = (curate_video(r, cfg) for r in todo)
        for rec in progress_track(results, total=len(todo), desc="curate", enabled=progress, unit="video"):
            collect(rec)
        return
    jobs = [(r, cfg, os.getpid()) for r in todo]
    # No cv2.setNumThreads(1) in the workers: called in a child forked from a parent whose
    # OpenCV thread pool has run, it deadlocks (seen here); the warps are small anyway.
    with multiprocessing.get_context().Pool(workers, initializer=_die_with_parent) as pool:
        for rec in progress_track(pool.imap_unordered(_work, jobs), total=len(todo), desc="curate",
                                  enabled=progress, unit="video"):
            collect(rec)


def _log_problems(problems: list, data_path: Path, log) -> None:
    for file, why in problems[:10]:
        log(f"curate: skipped {file}: {why}")
    if len(problems) > 10:
        log(f"curate: ... and {len(problems) - 10} more problem file(s); see {data_path / RECORDS_DIR}")


def curate(cfg: CurateConfig, progress: bool | None = None, log=print) -> dict:
    """Curate every video (resuming), write the manifest, return the summary dict."""
    start = time.perf_counter()
    refs = find_sources(cfg)
    data_path = Path(cfg.data_path)
    settings = settings_fingerprint(cfg)
    _remove_stale_temp_files(data_path)
    done = _finished(data_path, refs, settings)
    workers = max(1, int(cfg.workers or usable_cores()))
    if done is not None:
        log(f"curate: all {len(refs)} videos of {_where(cfg)} already curated in {data_path}")
        return _summary(done, refs, [], workers, 0, 0.0, time.perf_counter() - start, data_path)
    records: dict[str, tuple[dict | None, dict]] = {}
    todo = []
    for r in refs:
        rec = _load_record(record_path(data_path, r.name), settings)
        if rec is None:
            todo.append(r)
        else:
            records[r.name] = _chunk(rec)
    if todo:
        for name in (LEGACY_JSON_FILE, MANIFEST_FILE):  # never leave a stale "complete" marker
            (data_path / name).unlink(missing_ok=True)
    workers = max(1, min(workers, len(todo)))
    log(f"curate: {len(refs)} videos of {_where(cfg)}, {len(records)} already done, "
        f"{len(todo)} to do with {workers} worker(s) -> {data_path}")
    totals = {"seconds": 0.0, "crops": 0}
    problems: list = []

    def collect(rec: dict) -> None:
        totals["seconds"] += rec["seconds"]
        totals["crops"] += rec["crops"]
        problems.extend(rec.get("problems", []))
        records[rec["name"]] = _chunk(rec)

    _curate_videos(todo, cfg, workers, progress, collect)
    _log_problems(problems, data_path, log)
    total_bytes = sum(small["bytes"] for _, small in records.values())
    extra = {"settings": settings, "bytes": total_bytes,
             "refs_sha1": _listing_digest(_listing(refs))}
    manifest = assemble_manifest(cfg, refs, records, extra)
    if manifest.num_crops() == 0:
        expected = {"vid": f"{EXPECTED_LAYOUT} with <object> boxes", "got10k": GOT10K_LAYOUT}.get(
            cfg.source, f"{EXPECTED_LAYOUT}, or {GOT10K_LAYOUT}")
        raise VidFormatError(f"no usable track in {len(refs)} video(s) of {_where(cfg)}: skipped "
                             f"{manifest.skipped}; expected {expected}")
    manifest.save(data_path / MANIFEST_FILE)
    return _summary(manifest, refs, todo, workers, totals["crops"], totals["seconds"], time.perf_counter() - start,
                    data_path)


def _where(cfg: CurateConfig) -> str:
    vid, got10k = f"ILSVRC2015-VID under {cfg.vid_root}", f"GOT-10k train under {cfg.got10k_root}"
    return {"vid": vid, "got10k": got10k, "both": f"{vid} and {got10k}"}.get(cfg.source, cfg.source)


def format_summary(summary: dict) -> str:
    """The summary as a two-column text table (skip reasons and flags one per row)."""
    rows = [(k, v) for k, v in summary.items() if k not in ("skipped", "flagged")]
    rows += [(f"skipped {reason}", n) for reason, n in summary.get("skipped", {}).items()]
    rows += [(f"flagged {flag}", n) for flag, n in summary.get("flagged", {}).items()]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
