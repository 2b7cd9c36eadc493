"""The box picker's Python side: the box it reports from the widget's traits, the lines it prints, and
a headless path that never needs the widget package."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from siamfc_lib.video.notebook import box_picker, chosen_box
from siamfc_lib.video.run import rerun_commands
from siamfc_lib.visualisation.box_picker import BoxPicker, box_from_widget

PARAMS = {"video": "clip.mp4", "checkpoint": "outputs/demo/train_1p", "out_dir": "outputs/mine", "box": None}


def test_widget_rectangles_are_opencv_style_and_become_one_based_otb():
    # the widget's x, y are the pixel-corner coordinates of the top-left pixel: pixel 10 -> OTB x 11
    drawn = [{"x": 10, "y": 20, "width": 30, "height": 40, "label": "target"}]
    assert box_from_widget(drawn) == [11, 21, 30, 40]
    # the last box with a size wins; a click without a drag (zero size) is ignored; fractions round
    drawn += [{"x": 50.4, "y": 60.6, "width": 20.2, "height": 10.0, "label": "target"},
              {"x": 5, "y": 5, "width": 0, "height": 0, "label": "target"}]
    assert box_from_widget(drawn) == [51, 62, 20, 10]
    assert box_from_widget([]) is None


def test_picker_shows_the_frame_and_prints_the_headless_runs_for_the_drawn_box():
    frame = np.zeros((96, 128, 3), np.uint8)
    picker = BoxPicker(frame, commands=lambda box: rerun_commands(PARAMS, box))
    assert picker.widget.image_bytes[:2] == b"\xff\xd8"             # the frame, as a JPEG
    assert picker.box is None and "Drag a box" in picker.status.value
    picker.widget.bboxes = [{"x": 30, "y": 20, "width": 24, "height": 18, "label": "target"}]   # as the browser sets it
    assert picker.box == [31, 21, 24, 18]
    lines = picker.lines()
    assert lines[0] == "box = [31, 21, 24, 18]"
    assert lines[1] == ('papermill notebooks/07_track_video.ipynb out.ipynb -p video clip.mp4 -p box "[31, 21, 24, 18]" '
                        "-p checkpoint outputs/demo/train_1p -p out_dir outputs/mine")
    assert lines[2] == ("python -m siamfc_lib.track clip.mp4 --box 31,21,24,18 --checkpoint outputs/demo/train_1p "
                        "--out outputs/mine")
    assert "-p box &quot;[31, 21, 24, 18]&quot;" in picker.status.value    # shown under the frame
    assert chosen_box(None, picker) == [31, 21, 24, 18]
    assert "Box picker" in picker._repr_mimebundle_()["text/plain"]


def test_next_cell_before_drawing_says_what_to_do():
    picker = BoxPicker(np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="no box drawn yet: drag a box around the target on the frame above"):
        chosen_box(None, picker)
    assert chosen_box("[1, 2, 3, 4]", None) == [1, 2, 3, 4]            # papermill's -p box string


def test_a_picker_only_where_someone_can_draw(monkeypatch):
    from siamfc_lib.data.video import Frame

    frame = Frame(0, 0.0, np.zeros((48, 64, 3), np.uint8))
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/notebooks/07_track_video.ipynb")     # JupyterLab's kernel
    assert isinstance(box_picker(PARAMS, frame), BoxPicker)
    assert box_picker({**PARAMS, "box": [1, 2, 3, 4]}, frame) is None
    monkeypatch.delenv("JPY_SESSION_NAME")                                             # papermill's kernel
    with pytest.raises(ValueError, match=r"box is None and nobody can draw it here.*-p box \"\[x, y, w, h\]\""):
        box_picker(PARAMS, frame)


def test_the_headless_path_never_imports_the_widget(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "jupyter_bbox_widget", None)      # as if not installed
    from siamfc_lib.data.video import Frame

    frame = Frame(0, 0.0, np.zeros((48, 64, 3), np.uint8))
    assert box_picker({**PARAMS, "box": [1, 2, 3, 4]}, frame) is None
    with pytest.raises(ImportError, match=r"jupyter-bbox-widget: `make lab` installs it.*-p box"):
        BoxPicker(frame.rgb)
