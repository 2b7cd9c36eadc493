"""``python -m siamfc_lib.bench video``: a long 1280x720 video tracked as a stream, beside the tracker
on frames already decoded.

The video (``--minutes`` at ``--fps``, H.264; made once and kept under ``--cache``) is a textured
target moving over a panning photograph. Per network width (``--width``, untrained and seeded:
speed is the point):

* ``predecoded``: the first ``--subset`` frames decoded into memory, then ``update()`` over them
  (got10k's timing: the tracker only) -> ``fps``;
* ``stream``: the whole video through :func:`~siamfc_lib.video.run.track_video` without the
  annotated video, in a fresh process -> ``fps_end_to_end`` (decoding on its read-ahead thread
  included), ``fps_tracker``, peak RSS (VmHWM) and RSS samples through the run;
* ``stream_annotated``: the same with the annotated video written, over the first
  ``--annotated-minutes``;
* ``stream_in_turn``: as ``stream`` over that same span, but decoding each frame when the tracker
  asks for it (``read_ahead: 0``): what reading ahead on a thread gains.

``stream_over_predecoded`` = stream ``fps_end_to_end`` / predecoded ``fps`` (the goal: at least 0.9).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..cores import cpu_model

CHILD = """
import json, sys, torch
from siamfc_lib.model import build_model
from siamfc_lib.video.run import track_video

def status(key):
    return int([l for l in open('/proc/self/status') if l.startswith(key)][0].split()[1]) / 1024

args = json.loads(sys.argv[1])
samples = []
def sample(frame, box, relative, lost):
    if frame.index % args['every'] == 0:
        samples.append([frame.index, round(status('VmRSS'), 1)])
torch.manual_seed(0)
run = track_video(dict(video=args['video'], box=args['box'], out_dir=args['out'], device=args['device'],
                       viewer_frames=0, write_video=args['write_video'], max_frames=args['frames'],
                       read_ahead=args['read_ahead']),
                  model=build_model(width=args['width']), log=lambda s: None, on_frame=sample)
print(json.dumps({'frames': len(run.boxes), 'fps_end_to_end': run.summary['fps_end_to_end'],
                  'fps_tracker': run.summary['fps_tracker'], 'peak_rss_mb': round(status('VmHWM'), 1),
                  'rss_mb_by_frame': samples, 'codec': run.codec}))
"""


def scene_frames(count: int, width: int = 1280, height: int = 720):
    """Frames of a 120x90 textured target on a Lissajous path over a slowly panning photograph; and its first box."""
    import cv2
    from skimage import data

    background = cv2.resize(data.astronaut(), (width, height))
    target = cv2.resize(data.chelsea()[60:240, 80:320], (120, 90))
    cx, cy, ax, ay = width / 2, height / 2, width / 2 - 100, height / 2 - 80

    def frame(i: int) -> np.ndarray:
        img = np.roll(background, (i // 2) % width, axis=1)
        x = int(cx + ax * np.sin(i / 97.0) - 60)
        y = int(cy + ay * np.sin(i / 61.0) - 45)
        img[y:y + 90, x:x + 120] = target
        return img

    first = frame(0)
    x0, y0 = int(cx - 60), int(cy - 45)
    assert np.array_equal(first[y0:y0 + 90, x0:x0 + 120], target)
    return (frame(i) for i in range(count)), [x0 + 1.0, y0 + 1.0, 120.0, 90.0]


def make_video(cache: Path, minutes: float, fps: float) -> tuple[Path, list[float], float]:
    from ..data.video_writer import VideoWriter

    count = int(round(minutes * 60 * fps))
    frames, box = scene_frames(count)
    path = cache / f"bench_video_1280x720_{fps:g}fps_{count}frames.mp4"
    start = time.perf_counter()
    if not path.exists():
        with VideoWriter(path, 1280, 720, fps) as writer:
            for i, image in enumerate(frames):
                writer.write(image, i / fps)
    return path, box, time.perf_counter() - start


def predecoded(video: Path, box: list[float], width: float, subset: int, device: str) -> dict:
    import torch

    from ..data.video import open_video
    from ..model import build_model
    from ..tracking.tracker import SiamFCTracker

    images = [f.rgb for f in open_video(video).frames(0, subset)]
    torch.manual_seed(0)
    tracker = SiamFCTracker(build_model(width=width), device=device)
    tracker.track_frames(images[:6], box)                           # warm-up
    _, times = tracker.track_frames(images, box)
    return {"frames": len(images), "fps": round((len(images) - 1) / float(np.sum(times[1:])), 2)}


def stream(video: Path, box: list[float], width: float, frames: int | None, write_video: bool, device: str,
           out: Path, read_ahead: int = 8) -> dict:
    args = {"video": str(video), "box": box, "width": width, "frames": frames, "write_video": write_video,
            "device": device, "out": str(out), "every": 600, "read_ahead": read_ahead}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr[-1500:]}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m siamfc_lib.bench video")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--width", type=float, nargs="+", default=[0.25, 1.0], help="network widths")
    p.add_argument("--subset", type=int, default=300, help="frames decoded into memory for the predecoded rate")
    p.add_argument("--annotated-minutes", type=float, default=1.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--cache", default="outputs/bench", help="where the generated video is kept")
    args = p.parse_args(argv)
    import os

    import torch

    load_before = os.getloadavg()
    cache = Path(args.cache)
    video, box, made_s = make_video(cache, args.minutes, args.fps)
    annotated = int(round(args.annotated_minutes * 60 * args.fps))
    runs = []
    for width in args.width:
        base = predecoded(video, box, width, args.subset, args.device)
        plain = stream(video, box, width, None, False, args.device, cache / f"bench_video_out_{width:g}")
        drawn = stream(video, box, width, annotated, True, args.device, cache / f"bench_video_annotated_{width:g}")
        in_turn = stream(video, box, width, annotated, False, args.device, cache / f"bench_video_in_turn_{width:g}", 0)
        ratio = plain.get("fps_end_to_end", 0) / base["fps"] if base["fps"] else None
        runs.append({"width": width, "predecoded": base, "stream": plain, "stream_annotated": drawn,
                     "stream_in_turn": in_turn, "stream_over_predecoded": round(ratio, 3) if ratio is not None else None})
    return {"video": str(video), "minutes": args.minutes, "frames": int(round(args.minutes * 60 * args.fps)),
            "video_made_s": round(made_s, 1), "device": args.device, "cpu": cpu_model(),
            "torch_threads": torch.get_num_threads(), "load_average_before_after": [load_before[0], os.getloadavg()[0]],
            "runs": runs}
