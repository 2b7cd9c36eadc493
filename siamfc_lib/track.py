"""``python -m siamfc_lib.track VIDEO --box x,y,w,h --checkpoint CK --out DIR [--device D] [--show]
[--backend torch|onnxruntime|om]``

The command-line twin of 07_track_video: the same call (:func:`siamfc_lib.video.run.track_video`),
the same files under ``--out``, the same boxes. As in the peers' demos (pysot's ``tools/demo.py
--video_name``, pytracking's ``run_video.py --optional_box``):

* without ``--box``, OpenCV's ROI selector opens on the first frame where there is a display and
  an OpenCV built with a GUI; elsewhere (a server, the headless OpenCV this project installs) the
  error names ``--box`` and the JupyterLab picker;
* ``--show`` plays the annotated frames in a window while tracking (q or Esc stops early and
  keeps what was tracked), under the same conditions;
* a progress bar in frames/s; a bad input is one line naming the fix, not a traceback.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

from . import boxes
from .config.video import TrackVideoConfig
from .data.video import VideoError

NO_WINDOW_HINT = ("Pass --box x,y,w,h (1-based pixels of the first tracked frame, as in OTB ground truth), or draw "
                  "it in JupyterLab: 07_track_video with box None shows the frame and prints the --box line")


def window_problem() -> str | None:
    """Why OpenCV cannot open a window here, or None when it can."""
    import cv2

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "there is no display (DISPLAY is not set)"
    gui = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    if gui is None or gui.group(1).upper() == "NONE":
        return ("this OpenCV has no GUI (opencv-contrib-python-headless); for windows, replace it with "
                "opencv-contrib-python")
    return None


def select_box(video: str, start_frame: int) -> list[float]:
    """The box drawn with OpenCV's ROI selector on frame ``start_frame``, as 1-based OTB."""
    import cv2

    from .video.notebook import first_frame

    problem = window_problem()
    if problem:
        raise SystemExit(f"error: no --box given, and OpenCV's box selector cannot open: {problem}. {NO_WINDOW_HINT}")
    frame = first_frame({"video": video, "start_frame": start_frame})
    title = "drag a box around the target, then Enter (c cancels)"
    rect = cv2.selectROI(title, cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR), showCrosshair=True, fromCenter=False)
    cv2.destroyWindow(title)
    if rect[2] <= 0 or rect[3] <= 0:
        raise SystemExit(f"error: no box selected. {NO_WINDOW_HINT}")
    box = boxes.xywh0_to_otb([float(v) for v in rect]).tolist()
    print(f"box: --box {','.join(f'{v:g}' for v in box)}")
    return box


def live_window(lost_below: float):
    """``on_frame`` for ``--show``: the annotated frame in a window; False (stop) on q or Esc."""
    import cv2

    from .visualisation.video_overlay import VideoOverlay

    problem = window_problem()
    if problem:
        raise SystemExit(f"error: --show needs a window, but {problem}; the annotated video is written anyway")
    overlay: list[VideoOverlay] = []

    def show(frame, box, relative, lost) -> bool:
        if not overlay:
            size = (frame.rgb.shape[1], frame.rgb.shape[0])
            overlay.append(VideoOverlay(size, size, lost_below))
        image = overlay[0].draw(frame.rgb, frame.index, frame.time, box, relative, lost)
        cv2.imshow("siamfc_lib.track (q stops)", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)

    return show


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m siamfc_lib.track", description=(
        "Track a target through a video file or image folder with a trained SiamFC (07_track_video's twin)."))
    p.add_argument("video", help="a video file (mp4, avi, mov, mkv, webm, ...) or a folder of images")
    p.add_argument("--box", help="x,y,w,h of the target in the first tracked frame, 1-based pixels (OTB); "
                                 "omitted: draw it (needs a display)")
    p.add_argument("--checkpoint", required=True, help="a .pth (trained or imported released weights) or a run_dir")
    p.add_argument("--out", required=True, help="output folder: tracked.mp4, boxes.txt, scores.csv, summary.json")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda[:i] or npu[:i]")
    p.add_argument("--backend", default="torch", choices=["torch", "onnxruntime", "om"],
                   help="torch; onnxruntime (--checkpoint: an export folder, or a .pth exported into OUT/onnx); "
                        "om (an export folder converted by its atc.sh, on an Ascend card)")
    p.add_argument("--providers", default="auto", help="onnxruntime execution providers: auto, or e.g. cpu, cuda,cpu")
    p.add_argument("--start-frame", type=int, default=0, help="0-based index of the frame the box is on")
    p.add_argument("--max-frames", type=int, default=None, help="frames to track (default: to the end)")
    p.add_argument("--show", action="store_true", help="show the tracked frames in a window while tracking")
    p.add_argument("--no-video", action="store_true", help="write boxes and scores only, no annotated video")
    p.add_argument("--image-fps", type=float, default=30.0, help="frame rate of an image folder")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .training.checkpoints import CheckpointError
    from .video.run import track_video

    box = args.box if args.box is not None else select_box(args.video, args.start_frame)
    params = dict(video=args.video, box=box, checkpoint=args.checkpoint, out_dir=args.out, device=args.device,
                  start_frame=args.start_frame, max_frames=args.max_frames, write_video=not args.no_video,
                  image_fps=args.image_fps, backend=args.backend, providers=args.providers)
    on_frame = live_window(TrackVideoConfig.lost_below) if args.show else None
    try:
        track_video(params, on_frame=on_frame)
    except (VideoError, ValueError, FileNotFoundError, CheckpointError) as exc:   # DeployError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no annotated video was written (boxes and scores neither)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
