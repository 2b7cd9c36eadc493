"""Box conversions: hand-computed cases and property-based round trips."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from siamfc_lib import boxes


def test_otb_box_hand_computed():
    # OTB 1-based x=1,y=1,w=4,h=2 covers 0-based pixels x 0..3, y 0..1.
    np.testing.assert_allclose(boxes.otb_to_cxcywh([1, 1, 4, 2]), [1.5, 0.5, 4, 2])
    np.testing.assert_allclose(boxes.otb_to_vid_corners([1, 1, 4, 2]), [0, 0, 3, 1])
    np.testing.assert_allclose(boxes.cxcywh_to_edges([1.5, 0.5, 4, 2]), [-0.5, -0.5, 3.5, 1.5])


def test_vid_corners_hand_computed():
    # got10k / original SiamFC: w = xmax - xmin + 1
    np.testing.assert_allclose(boxes.vid_corners_to_cxcywh([675, 115, 976, 451]), [825.5, 283, 302, 337])
    np.testing.assert_allclose(boxes.vid_corners_to_otb([675, 115, 976, 451]), [676, 116, 302, 337])


def test_context_size_matches_paper_formula():
    w, h = 40.0, 20.0
    p = 0.5 * (w + h)
    assert boxes.exemplar_context_size(w, h, 0.5) == pytest.approx(np.sqrt((w + p) * (h + p)))


def test_rejects_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        boxes.otb_to_cxcywh([1, 2, 3])


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
positive = st.floats(0.5, 1e4, allow_nan=False, allow_infinity=False)


@given(st.lists(st.tuples(finite, finite, positive, positive), min_size=1, max_size=8))
def test_round_trips(rows):
    b = np.array(rows)
    np.testing.assert_allclose(boxes.cxcywh_to_otb(boxes.otb_to_cxcywh(b)), b, atol=1e-6)
    np.testing.assert_allclose(boxes.vid_corners_to_cxcywh(boxes.cxcywh_to_vid_corners(b)), b, atol=1e-6)
    np.testing.assert_allclose(boxes.edges_to_cxcywh(boxes.cxcywh_to_edges(b)), b, atol=1e-6)
    assert boxes.is_valid(b).all()


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4))
def test_is_valid_never_crashes(row):
    valid = bool(boxes.is_valid(row))
    assert valid == (all(np.isfinite(row)) and row[2] > 0 and row[3] > 0)


def test_opencv_rect_is_otb_shifted_by_one():
    np.testing.assert_allclose(boxes.otb_to_xywh0([1, 1, 4, 2]), [0, 0, 4, 2])
    np.testing.assert_allclose(boxes.xywh0_to_otb([10, 5, 3, 7]), [11, 6, 3, 7])
