import numpy as np
import pytest

from glyphgen.canvas import Canvas


def test_pixels_and_units_round_trip():
    canvas = Canvas(size=128)
    x = np.array([0.0, 17.25, 64.0, 128.0])
    y = np.array([3.0, 50.5, canvas.baseline_row, 127.0])
    ux, uy = canvas.to_units(x, y)
    back_x, back_y = canvas.to_px(ux, uy)
    np.testing.assert_allclose(back_x, x)
    np.testing.assert_allclose(back_y, y)


def test_band_maps_to_the_em():
    canvas = Canvas(size=130, em_bottom=-0.3, em_top=1.0, units_per_em=1000)
    _, top = canvas.to_units(0, 0)
    _, bottom = canvas.to_units(0, canvas.size)
    assert top == pytest.approx(1000.0)
    assert bottom == pytest.approx(-300.0)
    assert canvas.to_units(canvas.size / 2, canvas.baseline_row) == pytest.approx((0.0, 0.0))


def test_scaled_canvas_keeps_the_same_units():
    small, big = Canvas(size=64), Canvas(size=64).scaled(512)
    assert big.size == 512 and big.em_bottom == small.em_bottom
    # The same point in font units lands at proportional pixels on both canvases.
    sx, sy = small.to_px(250.0, 480.0)
    bx, by = big.to_px(250.0, 480.0)
    assert bx == pytest.approx(sx * 8) and by == pytest.approx(sy * 8)


def test_a_band_without_the_baseline_is_refused():
    with pytest.raises(ValueError):
        Canvas(64, em_bottom=0.1, em_top=1.0)


def test_resampling_between_canvas_sizes(reference):
    from glyphgen import bitmap
    from glyphgen.render import render_glyphs

    small, large = render_glyphs(reference, "a", Canvas(32))[0], render_glyphs(reference, "a", Canvas(96))[0]
    # Whole factors are the exact enlargement and reduction, so scores do not depend on what else is compared.
    np.testing.assert_array_equal(bitmap.resample(small, 96), bitmap.upsample(small, 3))
    np.testing.assert_array_equal(bitmap.resample(large, 32), bitmap.downsample(large, 3))
    assert bitmap.resample(small, 32) is small
    # Other ratios land on the same em band: the ink stays where it was, about as heavy.
    for source, size in ((small, 48), (large, 80)):
        moved = bitmap.resample(source, size)
        assert moved.shape == (size, size) and moved.dtype == np.float32 and 0 <= moved.min() and moved.max() <= 1
        truth = render_glyphs(reference, "a", Canvas(size))[0]
        assert bitmap.iou(bitmap.ink_mask(moved), bitmap.ink_mask(truth)) > 0.85
        assert moved.mean() == pytest.approx(truth.mean(), rel=0.1)
