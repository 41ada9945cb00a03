import numpy as np
import pytest

from glyphgen import bitmap
from glyphgen.fontbuild import outline_bounds
from glyphgen.vectorize import count_points, trace_bitmap, trace_mask


def box_with_hole() -> np.ndarray:
    mask = np.zeros((40, 40), dtype=bool)
    mask[5:35, 5:35] = True
    mask[15:25, 15:25] = False
    return mask


def test_a_box_with_a_counter_gives_two_contours():
    outline = trace_mask(box_with_hole())
    assert len(outline) == 2
    # Straight edges come back as corners (line segments), not curves.
    assert all(seg[0] == "L" for contour in outline for seg in contour)
    xs = [p[0] for contour in outline for seg in contour for p in seg[1:]]
    assert min(xs) == pytest.approx(5) and max(xs) == pytest.approx(35)


def test_blank_traces_to_nothing_and_specks_are_dropped():
    assert trace_mask(np.zeros((20, 20), bool)) == []
    speck = np.zeros((20, 20), bool)
    speck[3, 3] = True
    assert trace_mask(speck) == []


def test_upsampled_trace_returns_canvas_coordinates():
    # An anti-aliased disc of radius 10 centred at (16, 16), as a model would draw it.
    fine = (np.mgrid[0:256, 0:256] + 0.5) / 8
    image = bitmap.downsample((((fine - 16) ** 2).sum(axis=0) <= 100).astype(np.float32), 8)
    outline, mask = trace_bitmap(image, upsample=4)
    assert mask.shape == (128, 128)
    assert len(outline) == 1 and any(seg[0] == "C" for seg in outline[0])  # a circle is curves
    box = outline_bounds(outline)
    assert (box.x_min, box.x_max, box.y_min, box.y_max) == pytest.approx((6, 26, 6, 26), abs=0.2)
    assert count_points(outline) < 30
    assert bitmap.iou(mask, bitmap.ink_mask(bitmap.upsample(image, 4))) > 0.98


def test_the_c_binding_traces_exactly_like_the_python_port():
    pytest.importorskip("potracecffi", reason="the [fast] extra is not installed")
    from glyphgen import vectorize
    from glyphgen.canvas import Canvas
    from glyphgen.render import render_glyphs
    from glyphgen.resources import reference_font

    for glyph in render_glyphs(reference_font(), "Ag8%", Canvas(256)):
        mask = bitmap.ink_mask(glyph)
        fast = vectorize._trace_cffi(mask, vectorize.TraceParams())
        slow = vectorize._trace_python(mask, vectorize.TraceParams())
        assert _same(fast, slow)


def _same(a, b) -> bool:
    """Same contours, in any order (the two list a glyph's contours differently)."""
    a, b = sorted(a, key=lambda c: c[-1][-1]), sorted(b, key=lambda c: c[-1][-1])
    return len(a) == len(b) and all(
        [s[0] for s in ca] == [s[0] for s in cb] and np.allclose([p for s in ca for p in s[1:]], [p for s in cb for p in s[1:]]) for ca, cb in zip(a, b)
    )
