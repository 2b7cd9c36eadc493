"""A video shown in a notebook or an exported HTML page: inline when small, else a poster and a link.

Executed notebooks and ``report.html`` are read without a server, where a relative ``src``
may not resolve: a small video is embedded as a data URL (the demo's is about 100 KB); a large
one is shown by its poster frame with its path, which plays in any browser.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path

MIME = {".mp4": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska"}
EMBED_MAX_BYTES = 20 * 1024 * 1024


def video_html(path: str | Path, poster: str | Path | None = None, width_px: int = 640,
               embed_max_bytes: int = EMBED_MAX_BYTES, caption: str = "") -> str:
    path = Path(path)
    poster_attr = ""
    if poster is not None and Path(poster).exists():
        data = base64.b64encode(Path(poster).read_bytes()).decode("ascii")
        poster_attr = f' poster="data:image/jpeg;base64,{data}"'
    text = html.escape(caption or str(path))
    if path.stat().st_size > embed_max_bytes:
        image = f'<img src="data:image/jpeg;base64,{data}" width="{width_px}" alt="{text}"/><br/>' if poster_attr else ""
        return f"<div>{image}<code>{html.escape(str(path))}</code> ({path.stat().st_size / 1e6:.0f} MB): open it in a browser</div>"
    src = base64.b64encode(path.read_bytes()).decode("ascii")
    mime = MIME.get(path.suffix.lower(), "video/mp4")
    return (f'<figure style="margin: 0"><video controls loop muted playsinline width="{width_px}"{poster_attr}>'
            f'<source src="data:{mime};base64,{src}" type="{mime}"/></video>'
            f"<figcaption>{text}</figcaption></figure>")
