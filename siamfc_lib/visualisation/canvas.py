"""Figures drawn on an Agg canvas and saved as PNG, without touching pyplot's global state."""
from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def save_figure(fig: Figure, path: str | Path, tight: bool = True) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    if tight:
        fig.tight_layout()
    fig.savefig(path)
    return path


def shown(path: str | Path, alt: str, width: int | None = None):
    """A saved figure for ``IPython.display``, with the text that describes it (the HTML export's
    ``alt``, which nbconvert otherwise fills with a placeholder)."""
    from IPython.display import Image

    return Image(filename=str(path), width=width, metadata={"alt": alt})
