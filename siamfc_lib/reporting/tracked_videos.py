"""07's tracked videos in the report: each run folder's ``summary.json``, poster and video."""
from __future__ import annotations

import json
from pathlib import Path


def load_tracked_videos(video_dirs: list[str]) -> tuple[list[dict], list[str]]:
    """``(runs, missing)``: one dict per 07 output folder that has a summary, and the folders without one."""
    runs, missing = [], []
    for folder in video_dirs or []:
        path = Path(folder) / "summary.json"
        if not path.exists():
            missing.append(str(folder))
            continue
        summary = json.loads(path.read_text())
        files = {k: Path(folder) / name for k, name in summary.get("files", {}).items()}
        runs.append({**summary, "out_dir": str(folder), "paths": files})
    return runs, missing


def tracked_video_rows(runs: list[dict]) -> list[dict]:
    return [{"video": Path(r["video"]).name, "frames": r["frames_tracked"], "fps_tracker": r["fps_tracker"],
             "fps_end_to_end": r["fps_end_to_end"], "device": r["device"],
             "likely_lost": r["confidence"]["frames_likely_lost"], "codec": r["codec"] or "-",
             "out_dir": r["out_dir"]} for r in runs]
