import numpy as np
import pytest

from glyphgen import bitmap, vectorize
from glyphgen.outline import outline_bounds
from glyphgen.vectorize import TraceParams, count_points, pixel_edge_outline, trace_bitmap, trace_mask, transform_outline


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


# --- when the tracer's arithmetic fails -----------------------------------------------------
# No bitmap found so far makes potracer raise (a fuzz of ~10^4 masks, see
# tests/test_tracer_fuzz.py): these make the failures happen where they would.


def disc() -> np.ndarray:
    rows, cols = np.mgrid[0:48, 0:48]
    return (rows - 23.5) ** 2 + (cols - 23.5) ** 2 <= 18**2


def signed_areas(outline) -> list[float]:
    return sorted(vectorize._signed_area([seg[-1] for seg in contour]) for contour in outline)


def failing_tracer(error: type[Exception], when=lambda mask, params: True):
    real = vectorize._trace

    def trace(mask, params):
        if when(mask, params):
            raise error("math domain error")
        return real(mask, params)

    return trace


def test_a_math_domain_error_in_curve_optimisation_retries_without_it(monkeypatch):
    if vectorize.TRACER_NAME != "potracer":
        pytest.skip("the reported failure is in the pure-Python port")
    import potrace.potrace

    def opti_penalty(*args):
        raise ValueError("math domain error")  # the reported crash: math.sqrt(-1e-16) in potracer's opti_penalty

    expected = vectorize._trace(disc(), TraceParams(opticurve=False))
    monkeypatch.setattr(potrace.potrace, "opti_penalty", opti_penalty)
    outline = trace_mask(disc())
    assert outline == expected and any(seg[0] == "C" for seg in outline[0])  # still curves, just not merged


def test_when_the_polygon_stage_fails_too_the_same_pixels_are_traced_on_a_finer_lattice(monkeypatch):
    mask = box_with_hole()
    expected = transform_outline(vectorize._trace(np.kron(mask, np.ones((2, 2), bool)), TraceParams(opticurve=False, turdsize=8)), lambda x, y: (x / 2, y / 2))
    monkeypatch.setattr(vectorize, "_trace", failing_tracer(ZeroDivisionError, when=lambda m, params: m.shape == mask.shape))
    outline = trace_mask(mask)
    assert outline == expected
    assert signed_areas(outline) == pytest.approx([-100, 900])


def test_when_every_trace_fails_the_outline_is_the_pixel_edges(monkeypatch):
    mask = box_with_hole()
    mask[0, 0] = True  # a speck the tracer would drop
    monkeypatch.setattr(vectorize, "_trace", failing_tracer(ValueError))
    outline = trace_mask(mask)
    assert outline == pixel_edge_outline(mask)
    assert all(seg[0] == "L" for contour in outline for seg in contour)
    assert signed_areas(outline) == [-100, 900]  # the speck dropped, the counter kept


def test_errors_that_are_not_arithmetic_are_not_traced_around(monkeypatch):
    monkeypatch.setattr(vectorize, "_trace", failing_tracer(IndexError))
    with pytest.raises(IndexError):
        trace_mask(box_with_hole())


def test_pixel_edge_outlines_are_oriented_like_potraces():
    mask = box_with_hole()
    assert signed_areas(pixel_edge_outline(mask)) == pytest.approx(signed_areas(trace_mask(mask))) == [-100, 900]


def test_pixel_edges_join_ink_that_touches_only_at_corners():
    diagonal = np.eye(6, dtype=bool)
    outline = pixel_edge_outline(diagonal)
    assert len(outline) == 1 and signed_areas(outline) == [6]  # one stroke, not six dropped specks
    assert pixel_edge_outline(diagonal, turdsize=6) == []
