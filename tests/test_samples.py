"""Ingest: every naming scheme, inverse and noisy images, placement, and every bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from glyphgen import bitmap
from glyphgen.canvas import Canvas
from glyphgen.charset import get_charset
from glyphgen.errors import GlyphgenError
from glyphgen.samples import binarize, find_sample_files, load_samples

from .conftest import draw_char

LATIN = get_charset("latin")


def save(array: np.ndarray, path):
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)
    return path


def clean_mask(char, reference):
    return draw_char(char, reference) < 128


# -- naming ------------------------------------------------------------------


def test_every_naming_scheme(tmp_path, reference):
    save(draw_char("A", reference), tmp_path / "uni0041.png")
    Image.fromarray(draw_char("b", reference)).convert("RGB").save(tmp_path / "U+0062.jpg")
    save(draw_char("7", reference), tmp_path / "7.bmp")
    save(draw_char("&", reference), tmp_path / "scan-03.tif")
    save(draw_char("c", reference), tmp_path / "weird name.png")
    (tmp_path / "labels.csv").write_text("file,char\nscan-03.tif,&\nweird name.png,U+0063\n")
    files = find_sample_files(tmp_path, LATIN)
    assert {c: p.name for c, p in files.items()} == {
        "&": "scan-03.tif",
        "7": "7.bmp",
        "A": "uni0041.png",
        "b": "U+0062.jpg",
        "c": "weird name.png",
    }
    assert list(files) == sorted(files, key=ord)  # charset order


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "no sample images found"),
        (lambda d: (d / "uni0041.txt").write_text("hi"), "uni0041.txt: not an image file"),
        (lambda d: (d / "uni0041.png").write_bytes(b"not a png at all"), "uni0041.png: not a readable image"),
        (lambda d: (d / "hello.png").write_bytes(b""), "hello.png: the file name names no character"),
        (lambda d: (d / "a.png").write_bytes(b""), "a.png: a file named by a cased letter is ambiguous"),
        (lambda d: (d / "uni0416.png").write_bytes(b""), "U\\+0416 'Ж' is not in the latin charset"),
        (lambda d: [(d / "uni0041.png").write_bytes(b""), (d / "U+0041.png").write_bytes(b"")], "a second image for U\\+0041 'A'"),
        (lambda d: (d / "labels.csv").write_text("x.png,A\n"), "labels.csv, row 1: the file 'x.png' does not exist"),
        (lambda d: [(d / "x.png").write_bytes(b""), (d / "labels.csv").write_text("x.png,AB\n")], "'AB' is not a character"),
        (lambda d: save(np.full((80, 60), 250), d / "uni0042.png"), "uni0042.png: no ink found; the image looks blank"),
    ],
)
def test_bad_sample_folders_get_one_clear_sentence(tmp_path, reference, setup, message):
    setup(tmp_path)
    with pytest.raises(GlyphgenError, match=message):
        load_samples(tmp_path, LATIN, reference, Canvas(64))


def test_missing_folder(tmp_path, reference):
    with pytest.raises(GlyphgenError, match="samples folder not found"):
        load_samples(tmp_path / "nope", LATIN, reference, Canvas(64))


# -- cleaning ----------------------------------------------------------------


@pytest.mark.parametrize("zoom", [1, 6])
def test_inverse_images_are_detected(reference, zoom):
    # At zoom 6 (a phone photo's size) polarity is judged on a sample of the pixels and the paper on a coarse grid.
    grey = np.kron(draw_char("R", reference) / 255.0, np.ones((zoom, zoom)))
    truth = np.kron(clean_mask("R", reference), np.ones((zoom, zoom), dtype=bool))
    assert bitmap.iou(binarize(1.0 - grey), truth) > 0.97
    assert bitmap.iou(binarize(grey), truth) > 0.97


def test_noisy_phone_photo_is_cleaned(reference):
    rng = np.random.default_rng(0)
    grey = draw_char("g", reference) / 255.0
    h, w = grey.shape
    rows, cols = np.mgrid[0:h, 0:w]
    light = 0.55 + 0.4 * cols / w  # a shadow across the page
    photo = grey * light + rng.normal(0, 0.04, grey.shape)
    for r, c in [(5, 5), (h - 8, 6), (6, w - 9)]:  # dust in three corners
        photo[r : r + 3, c : c + 3] = 0.1
    mask = binarize(np.clip(photo, 0, 1))
    truth = clean_mask("g", reference)
    assert bitmap.iou(mask, truth) > 0.9
    assert bitmap.ink_bbox(mask) == pytest.approx(bitmap.ink_bbox(truth), abs=2)  # no speck survives


def test_dots_are_not_specks(reference):
    mask = binarize(draw_char("i", reference) / 255.0)
    assert bitmap.iou(mask, clean_mask("i", reference)) > 0.97


# -- placement ---------------------------------------------------------------


def test_one_global_scale_keeps_relative_sizes(tmp_path, reference, write_samples):
    # Samples drawn at twice the size still land at the reference's size.
    folder = write_samples(tmp_path / "s", "AHaxp", size=220)
    canvas = Canvas(128)
    samples = load_samples(folder, LATIN, reference, canvas)
    placed = samples.on_canvas(canvas)
    from glyphgen.render import render_glyphs

    truth = dict(zip("AHaxp", render_glyphs(reference, list("AHaxp"), canvas)))
    for char in "AHaxp":
        assert bitmap.ink_height(placed[char]) == pytest.approx(bitmap.ink_height(truth[char]), abs=2)
        assert bitmap.iou(bitmap.ink_mask(placed[char]), bitmap.ink_mask(truth[char])) > 0.8
    # 'p' hangs below the baseline, 'a' sits on it.
    assert bitmap.ink_bbox(bitmap.ink_mask(placed["p"]))[1] > canvas.baseline_row + 5
    assert bitmap.ink_bbox(bitmap.ink_mask(placed["a"]))[1] == pytest.approx(canvas.baseline_row, abs=2)


def test_a_huge_photo_places_like_a_small_scan(tmp_path, reference):
    small, huge = tmp_path / "small", tmp_path / "huge"
    small.mkdir(), huge.mkdir()
    for char in "AHx":
        image = Image.fromarray(draw_char(char, reference, size=120))
        image.save(small / f"uni{ord(char):04X}.png")
        image.resize((image.width * 12, image.height * 12), Image.Resampling.BICUBIC).save(huge / f"uni{ord(char):04X}.jpg")
    canvas = Canvas(64)
    a = load_samples(small, LATIN, reference, canvas).on_canvas(canvas)
    b = load_samples(huge, LATIN, reference, canvas).on_canvas(canvas)
    for char in "AHx":
        assert bitmap.iou(bitmap.ink_mask(a[char]), bitmap.ink_mask(b[char])) > 0.9
