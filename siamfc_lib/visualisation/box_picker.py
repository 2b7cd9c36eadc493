"""Draw the target's box on the first frame in JupyterLab, with the mouse; no X display needed.

The frame is shown in jupyter-bbox-widget's ``BBoxWidget`` (an anywidget: it works in
JupyterLab 4 with nothing to build or enable); the last box dragged is the target, and a box
can be moved or resized until the next cell runs. The widget reports pixel-corner image
coordinates (pixel ``i`` spans ``[i, i + 1)``), i.e. OpenCV's 0-based ``x, y, w, h``,
converted by :func:`siamfc_lib.boxes.xywh0_to_otb` to the 1-based OTB box the tracker takes.
Below the frame, the commands that repeat the run headless with that box.

The package is in the ``notebook`` extra (``make lab``); papermill runs with a ``box`` and the
command line never import it.
"""
from __future__ import annotations

import html
from typing import Callable

import cv2
import numpy as np

from .. import boxes

INSTALL_HINT = ("drawing the box needs jupyter-bbox-widget: `make lab` installs it (or `pip install -e "
                "'.[notebook]'`); or pass the box: papermill -p box \"[x, y, w, h]\"")


def picker_widget_class():
    try:
        from jupyter_bbox_widget import BBoxWidget
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return BBoxWidget


def box_from_widget(bboxes: list[dict]) -> list[float] | None:
    """The last drawn box with a positive size, as a 1-based OTB ``[x, y, w, h]`` (None: none drawn)."""
    for b in reversed(bboxes or []):
        rect = [float(b.get(k, 0.0)) for k in ("x", "y", "width", "height")]
        if rect[2] > 0 and rect[3] > 0:
            return [int(v) if float(v).is_integer() else v for v in boxes.xywh0_to_otb(np.round(rect)).tolist()]
    return None


class BoxPicker:
    """The first frame to drag a box on; ``box`` is the chosen one (None until drawn).

    ``commands(box) -> [str]``: the headless runs to print under the frame for a chosen box.
    """

    def __init__(self, frame_rgb: np.ndarray, commands: Callable[[list[float]], list[str]] | None = None,
                 width_px: int = 900):
        import ipywidgets as widgets

        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        self.frame_size = (frame_rgb.shape[1], frame_rgb.shape[0])
        self.commands = commands
        self.widget = picker_widget_class()(image_bytes=jpeg.tobytes(), classes=["target"], hide_buttons=True,
                                            layout=widgets.Layout(width=f"{min(width_px, self.frame_size[0] * 2)}px"))
        self.status = widgets.HTML()
        self.view = widgets.VBox([self.widget, self.status])
        self.widget.observe(lambda change: self._show(), names="bboxes")
        self._show()

    @property
    def box(self) -> list[float] | None:
        return box_from_widget(self.widget.bboxes)

    def lines(self) -> list[str]:
        box = self.box
        if box is None:
            return ["Drag a box around the target on the frame above, then run the next cell."]
        return [f"box = {box}"] + (self.commands(box) if self.commands else [])

    def _show(self) -> None:
        self.status.value = "<pre style='white-space: pre-wrap'>" + html.escape("\n".join(self.lines())) + "</pre>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.view._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = "Box picker (needs a live kernel in JupyterLab): " + " | ".join(self.lines())
        return bundle
