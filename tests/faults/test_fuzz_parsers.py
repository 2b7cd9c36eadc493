"""Property-based fuzzing of the parsers and box conversions (issue #9).

Documented error types, read from the code:

* ``siamfc_lib.data.vid.parse_frame_xml``: ValueError (message starts with the file's path) for
  a malformed file, OSError for an unreadable one; ``read_video`` turns both into
  ``frame.malformed_xml`` counts and never raises for a bad frame.
* ``siamfc_lib.data.otb.parse_groundtruth``: OTBFormatError (a ValueError) naming the file.
* ``siamfc_lib.boxes``: ValueError for a shape other than (4,) or (N, 4).
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from siamfc_lib import boxes
from siamfc_lib.data.otb import OTBFormatError, parse_groundtruth
from siamfc_lib.data.vid import VideoRef, parse_frame_xml, read_video

pytestmark = pytest.mark.faults
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_counter = itertools.count()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _write(folder: Path, data: bytes, suffix: str) -> Path:
    path = folder / f"{next(_counter):06d}{suffix}"
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# VID XML
# --------------------------------------------------------------------------------------------

def _check_xml(path: Path):
    try:
        size, objects = parse_frame_xml(path)
    except ValueError as exc:
        assert str(exc).startswith(f"{path}:"), f"message does not name the file: {exc}"
        return None
    assert len(size) == 2 and all(isinstance(v, int) for v in size)
    for obj in objects:
        assert isinstance(obj["trackid"], int) and isinstance(obj["wnid"], str) and obj["wnid"]
        assert len(obj["corners"]) == 4 and all(isinstance(v, int) for v in obj["corners"])
        assert isinstance(obj["occluded"], int) and isinstance(obj["generated"], int)
    return size, objects


@FUZZ
@given(st.binary(max_size=400))
def test_xml_parser_on_arbitrary_bytes(scratch, data):
    _check_xml(_write(scratch, data, ".xml"))


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' ?!-[]&;#x0123456789abnotiz\n\t")) | st.characters(),
               max_size=300))
def test_xml_parser_on_arbitrary_text(scratch, text):
    _check_xml(_write(scratch, text.encode("utf-8", "surrogatepass"), ".xml"))


VALUES = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e999", "ten", "0x10", "1_000", " 12 ", "3.5", "--1",
                     "\u0661\u0662", "<b>1</b>", "&amp;", "1e-999"]),
)


@st.composite
def structured_xml(draw) -> str:
    """An annotation where any element may be missing, repeated, misplaced or hold a wrong value."""
    def field(tag):
        if draw(st.integers(0, 9)) == 0:
            return ""                                       # missing
        return f"<{tag}>{draw(VALUES)}</{tag}>"

    root = draw(st.sampled_from(["annotation"] * 8 + ["Annotation", "object"]))
    parts = []
    if draw(st.integers(0, 9)):
        parts.append(f"<size>{field('width')}{field('height')}</size>")
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["<name>n02084071</name>", "<name></name>", "<name> </name>", ""]))
        bnd = "" if draw(st.integers(0, 9)) == 0 else \
            "<bndbox>" + "".join(field(t) for t in draw(st.permutations(["xmin", "ymin", "xmax", "ymax"]))) + "</bndbox>"
        parts.append(f"<object>{field('trackid')}{name}{bnd}{field('occluded')}{field('generated')}</object>")
    if draw(st.booleans()):
        parts = draw(st.permutations(parts))
    head = draw(st.sampled_from(["", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="latin-1"?>',
                                 '<?xml version="1.0" encoding="nope"?>']))
    return f"{head}<{root}>{''.join(parts)}</{root}>"


@FUZZ
@given(structured_xml())
def test_xml_parser_on_structured_but_wrong_annotations(scratch, text):
    result = _check_xml(_write(scratch, text.encode("utf-8"), ".xml"))
    if result is not None:
        # Whatever parsed must have had every required element with a finite numeric value.
        assert "<size>" in text and "<width>" in text and "<height>" in text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(structured_xml(), min_size=1, max_size=4))
def test_read_video_never_raises_for_bad_frames(scratch, texts):
    folder = scratch / f"video{next(_counter):06d}"
    images, annos = folder / "Data", folder / "Annotations"
    images.mkdir(parents=True)
    annos.mkdir()
    for i, text in enumerate(texts):
        (images / f"{i:06d}.JPEG").write_bytes(b"")        # read_video does not open the JPEGs
        (annos / f"{i:06d}.xml").write_text(text, encoding="utf-8")
    video = read_video(VideoRef(folder.name, "train", images, annos))
    malformed = video.skipped.get("frame.malformed_xml", 0)
    assert malformed == len(video.problems)
    assert all(why.startswith("frame.malformed_xml: ") and file in why for file, why in video.problems)
    assert malformed <= len(texts)
    for track in video.tracks:
        assert len(track.frames) == len(track.boxes) >= 2
        assert all(b[2] >= b[0] and b[3] >= b[1] for b in track.boxes)


# --------------------------------------------------------------------------------------------
# OTB ground truth
# --------------------------------------------------------------------------------------------

GT_ALPHABET = st.sampled_from(list("0123456789.,-+eE \t\n\r;naif") + ["nan", "inf", "1e400", "\u00a0", "\ufeff"])


@FUZZ
@given(st.one_of(st.text(max_size=200), st.lists(GT_ALPHABET, max_size=80).map("".join)))
def test_groundtruth_parser_only_succeeds_or_raises_otb_format_error(scratch, text):
    path = _write(scratch, text.encode("utf-8", "surrogatepass"), ".txt")
    try:
        gt = parse_groundtruth(path)
    except OTBFormatError as exc:
        assert str(path) in str(exc)
        return
    assert gt.ndim == 2 and gt.shape[1] == 4 and len(gt) >= 1
    assert np.isfinite(gt).all()
    assert gt[0, 2] > 0 and gt[0, 3] > 0


@FUZZ
@given(st.binary(max_size=200))
def test_groundtruth_parser_on_arbitrary_bytes(scratch, data):
    path = _write(scratch, data, ".txt")
    try:
        parse_groundtruth(path)
    except OTBFormatError as exc:
        assert str(path) in str(exc)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
size = st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False)
DELIMS = st.sampled_from([",", "\t", " ", ", ", ",\t", "  ", " ,", "\t\t"])


@FUZZ
@given(st.lists(st.tuples(finite, finite, finite, finite), min_size=1, max_size=12),
       st.data())
def test_groundtruth_round_trip_with_any_delimiters(scratch, rows, data):
    rows[0] = (rows[0][0], rows[0][1], data.draw(size), data.draw(size))   # the first box has an area
    lines = []
    for row in rows:
        if data.draw(st.booleans()):
            lines.append(data.draw(st.sampled_from(["", "   ", "\t"])))       # blank lines anywhere
        seps = [data.draw(DELIMS) for _ in range(3)]
        text = repr(row[0]) + "".join(s + repr(v) for s, v in zip(seps, row[1:]))
        pad = data.draw(st.sampled_from(["", " ", "\t"]))
        lines.append(pad + text + data.draw(st.sampled_from(["", ",", " ", "\t"])))
    ending = data.draw(st.sampled_from(["\n", "\r\n"]))
    path = _write(scratch, ending.join(lines).encode(), ".txt")
    gt = parse_groundtruth(path)
    np.testing.assert_array_equal(gt, np.asarray(rows, dtype=np.float64))


# --------------------------------------------------------------------------------------------
# Box conversions (tests/test_boxes.py covers otb<->cxcywh, corners->cxcywh->corners and edges;
# these add the other directions, xywh0, batching and the shape contract)
# --------------------------------------------------------------------------------------------

coord = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
extent = st.floats(0.5, 1e4, allow_nan=False, allow_infinity=False)
rows_st = st.lists(st.tuples(coord, coord, extent, extent), min_size=1, max_size=8).map(np.array)


@settings(max_examples=150, deadline=None)
@given(rows_st)
def test_box_round_trips_from_every_external_format(b):
    # b read as OTB x, y, w, h
    np.testing.assert_allclose(boxes.vid_corners_to_otb(boxes.otb_to_vid_corners(b)), b, atol=1e-6)
    np.testing.assert_allclose(boxes.xywh0_to_otb(boxes.otb_to_xywh0(b)), b, atol=1e-6)
    # b read as VID corners (x0, y0, x0 + w, y0 + h): corners -> otb -> corners
    corners = np.stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], axis=-1)
    np.testing.assert_allclose(boxes.otb_to_vid_corners(boxes.vid_corners_to_otb(corners)), corners, atol=1e-6)
    np.testing.assert_allclose(boxes.cxcywh_to_vid_corners(boxes.vid_corners_to_cxcywh(corners)), corners, atol=1e-6)
    # b read as edges x1, y1, x2, y2
    edges = corners
    np.testing.assert_allclose(boxes.cxcywh_to_edges(boxes.edges_to_cxcywh(edges)), edges, atol=1e-6)


@settings(max_examples=150, deadline=None)
@given(rows_st)
def test_box_formats_agree_with_each_other(b):
    c = boxes.otb_to_cxcywh(b)
    # 0-based corners are OTB shifted by one with an inclusive far corner.
    np.testing.assert_allclose(boxes.otb_to_vid_corners(b),
                               np.stack([b[:, 0] - 1, b[:, 1] - 1, b[:, 0] + b[:, 2] - 2, b[:, 1] + b[:, 3] - 2], -1),
                               atol=1e-6)
    # Outer edges lie half a pixel outside the inclusive corners; xywh0 is the edges' top-left + 0.5.
    e, k = boxes.cxcywh_to_edges(c), boxes.cxcywh_to_vid_corners(c)
    np.testing.assert_allclose(e, k + np.array([-0.5, -0.5, 0.5, 0.5]), atol=1e-6)
    np.testing.assert_allclose(boxes.edges_xywh(c)[:, 2:], c[:, 2:], atol=1e-6)
    np.testing.assert_allclose(boxes.otb_to_xywh0(b), np.concatenate([b[:, :2] - 1, b[:, 2:]], -1), atol=1e-6)
    # Sizes survive every conversion; validity does too.
    np.testing.assert_allclose(boxes.vid_corners_to_cxcywh(k)[:, 2:], b[:, 2:], atol=1e-6)
    assert boxes.is_valid(c).all() and boxes.is_valid(boxes.vid_corners_to_otb(k)).all()


@settings(max_examples=100, deadline=None)
@given(rows_st)
def test_batched_equals_row_by_row_and_inputs_are_not_mutated(b):
    before = b.copy()
    for fn in (boxes.otb_to_cxcywh, boxes.cxcywh_to_otb, boxes.vid_corners_to_cxcywh, boxes.cxcywh_to_vid_corners,
               boxes.cxcywh_to_edges, boxes.edges_to_cxcywh, boxes.otb_to_vid_corners, boxes.vid_corners_to_otb,
               boxes.edges_xywh, boxes.otb_to_xywh0, boxes.xywh0_to_otb):
        batched = fn(b)
        assert batched.shape == b.shape and batched.dtype == np.float64
        for row, out in zip(b, batched):
            np.testing.assert_array_equal(fn(row), out)
            np.testing.assert_array_equal(fn(row.tolist()), out)
    np.testing.assert_array_equal(b, before)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 3000), st.integers(1, 2000), st.integers(1, 2000))
def test_integer_otb_boxes_give_integer_vid_corners_exactly(x, y, w, h):
    corners = boxes.otb_to_vid_corners([x, y, w, h])
    np.testing.assert_array_equal(corners, [x - 1, y - 1, x + w - 2, y + h - 2])
    np.testing.assert_array_equal(boxes.vid_corners_to_otb(corners), [x, y, w, h])


SHAPES = st.one_of(
    st.just(()), st.tuples(st.integers(0, 3)), st.tuples(st.integers(5, 8)),
    st.tuples(st.integers(0, 4), st.integers(0, 3)), st.tuples(st.integers(0, 4), st.integers(5, 7)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.just(4)),
)


@settings(max_examples=100, deadline=None)
@given(SHAPES)
def test_every_conversion_rejects_wrong_shapes_with_value_error(shape):
    assume(not (len(shape) == 1 and shape[0] == 4))
    arr = np.zeros(shape)
    for fn in (boxes.otb_to_cxcywh, boxes.cxcywh_to_otb, boxes.vid_corners_to_cxcywh, boxes.cxcywh_to_vid_corners,
               boxes.cxcywh_to_edges, boxes.edges_to_cxcywh, boxes.otb_to_vid_corners, boxes.vid_corners_to_otb,
               boxes.edges_xywh, boxes.otb_to_xywh0, boxes.xywh0_to_otb, boxes.is_valid):
        with pytest.raises(ValueError, match="shape"):
            fn(arr)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4))
def test_conversions_of_non_finite_boxes_do_not_raise(row):
    # Trackers can emit NaN boxes; conversions must pass them through (metrics handle them), not crash.
    with np.errstate(all="ignore"):
        out = boxes.otb_to_vid_corners(row)
    assert out.shape == (4,)
    if all(math.isfinite(v) for v in row) and all(abs(v) < 1e300 for v in row):
        assert np.isfinite(out).all()
