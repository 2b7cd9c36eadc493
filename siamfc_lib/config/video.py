"""07_track_video's and ``python -m siamfc_lib.track``'s settings (papermill names)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrackVideoConfig:
    """The trained tracker on one video file or image folder; see siamfc_lib.video.run."""

    video: str = ""                     # a video file (mp4, avi, mov, mkv, webm, ...) or a folder of images
    box: list[float] | None = None      # 1-based OTB x, y, w, h in the first tracked frame; None: draw it
    checkpoint: str = ""                # a .pth (trained, or imported released weights) or a training run_dir
    start_frame: int = 0                # 0-based index of the frame the box is drawn on
    max_frames: int | None = None       # frames to track from start_frame (None: to the end)
    device: str = "auto"
    backend: str = "torch"              # torch | onnxruntime (checkpoint: an export folder, or a .pth exported
                                        # into out_dir/onnx) | om (an export converted by its atc.sh); docs/deploy.md
    providers: str = "auto"             # onnxruntime execution providers: auto (CANN, CUDA, then CPU) or e.g. "cpu"
    out_dir: str = "outputs/track_video"
    write_video: bool = True            # the annotated video (boxes, scores and the plot are always written)
    video_max_side: int = 1280          # the annotated video is scaled down to this longest side
    lost_below: float = 0.4             # relative score under which a frame is marked "likely lost"
    viewer_frames: int = 100            # frames whose crop and response map are kept for the viewer
    image_fps: float = 30.0             # frame rate of an image folder
    read_ahead: int = 8                 # frames decoded ahead on another thread (0: decode in turn)
    decode_threads: int = 1             # FFmpeg's threads for decoding (0: one per core)
