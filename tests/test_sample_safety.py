"""A samples folder reads nothing outside itself, skips litter, and says what it did with odd images and small sets."""

from __future__ import annotations

import os
import shutil
import tracemalloc
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from glyphgen import samples
from glyphgen.canvas import Canvas
from glyphgen.charset import Charset, get_charset
from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.progress import Progress
from glyphgen.samples import check_coverage, find_sample_files, load_samples, read_grey, read_inks

from .conftest import draw_char

LATIN = get_charset("latin")


class Notes(Progress):
    """A progress that keeps the notes said to the user."""

    def __init__(self):
        self.lines: list[str] = []

    def note(self, message: str) -> None:
        self.lines.append(message)


def png(image: np.ndarray, path: Path) -> Path:
    Image.fromarray(image).save(path)
    return path


def padded(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` centred on white paper of ``shape``."""
    paper = np.full(shape, 255, dtype=np.uint8)
    top, left = (shape[0] - image.shape[0]) // 2, (shape[1] - image.shape[1]) // 2
    paper[top : top + image.shape[0], left : left + image.shape[1]] = image
    return paper


def error_of(call) -> str:
    with pytest.raises(GlyphgenError) as caught:
        call()
    return str(caught.value)


# -- nothing outside the folder is read ----------------------------------------


@pytest.mark.parametrize("row", ["../secret.png,A", "{outside}/secret.png,A"])
def test_a_labels_row_outside_the_folder_is_refused_whether_or_not_it_exists(tmp_path, reference, row):
    folder = tmp_path / "samples"
    folder.mkdir()
    png(draw_char("H", reference), folder / "uni0048.png")
    (folder / "labels.csv").write_text(row.format(outside=tmp_path) + "\n")
    absent = error_of(lambda: find_sample_files(folder, LATIN))
    png(draw_char("A", reference), tmp_path / "secret.png")
    present = error_of(lambda: find_sample_files(folder, LATIN))
    assert present == absent  # the answer tells nothing about what lies outside
    assert present.startswith(f"{folder / 'labels.csv'}, row 1: ")
    assert "leads outside the samples folder" in present


def test_a_link_out_of_the_folder_is_refused_whether_or_not_its_target_exists(tmp_path, reference):
    folder = tmp_path / "samples"
    folder.mkdir()
    png(draw_char("H", reference), folder / "uni0048.png")
    os.symlink(tmp_path / "secret.png", folder / "uni0041.png")
    absent = error_of(lambda: find_sample_files(folder, LATIN))
    png(draw_char("A", reference), tmp_path / "secret.png")
    present = error_of(lambda: find_sample_files(folder, LATIN))
    assert present == absent == f"{folder / 'uni0041.png'}: this link leads outside the samples folder {folder}; only files inside it are read."


def test_a_labels_file_linked_from_outside_is_refused(tmp_path, reference):
    folder = tmp_path / "samples"
    folder.mkdir()
    png(draw_char("H", reference), folder / "uni0048.png")
    (tmp_path / "labels.csv").write_text("uni0048.png,H\n")
    os.symlink(tmp_path / "labels.csv", folder / "labels.csv")
    assert "labels.csv: this link leads outside the samples folder" in error_of(lambda: find_sample_files(folder, LATIN))


def test_links_that_stay_inside_the_folder_are_read(tmp_path, reference):
    folder = tmp_path / "samples"
    (folder / "scans").mkdir(parents=True)
    png(draw_char("H", reference), folder / "scans" / "page-1.png")
    os.symlink(folder / "scans" / "page-1.png", folder / "uni0048.png")
    png(draw_char("A", reference), folder / "scans" / "page-2.png")
    (folder / "labels.csv").write_text("scans/../scans/page-2.png,A\n")
    assert {char: path.name for char, path in find_sample_files(folder, LATIN).items()} == {"A": "page-2.png", "H": "uni0048.png"}


def test_the_cli_refuses_a_labels_row_outside_the_folder_and_writes_nothing(tmp_path, reference):
    folder = tmp_path / "samples"
    folder.mkdir()
    for char in "Hox":
        png(draw_char(char, reference), folder / f"uni{ord(char):04X}.png")
    png(draw_char("A", reference), tmp_path / "secret.png")
    (folder / "labels.csv").write_text("file,char\n../secret.png,A\n")
    result = CliRunner().invoke(main, ["build", "--samples", str(folder), "--out", str(tmp_path / "out"), "--backend", "retrieval"])
    assert result.exit_code == 2, result.output
    sentence = f"{folder / 'labels.csv'}, row 2: '../secret.png' leads outside the samples folder {folder}; only files inside it are read."
    assert result.stderr.strip().splitlines() == [f"error: {sentence}"]
    assert not (tmp_path / "out").exists()


# -- litter is skipped, misnamed samples are not ------------------------------------


def test_litter_is_skipped_with_a_note(tmp_path, write_samples):
    folder = write_samples(tmp_path / "samples", "AHo")
    for name in ("Thumbs.db", "desktop.ini", "README", "README.md", "notes.txt", ".DS_Store"):
        (folder / name).write_bytes(b"\x00not a sample")
    notes = Notes()
    assert list(find_sample_files(folder, LATIN, notes)) == ["A", "H", "o"]
    # Hidden files are invisible to the person, so they are not listed.
    assert notes.lines == [f"{folder}: skipped 5 files that are not sample images: README, README.md, Thumbs.db, desktop.ini, notes.txt."]


@pytest.mark.parametrize("name", ["uni0041.txt", "U+0041.pdf", "A.txt", "7", "uni0041.png.bak", "IMG_1234.heic"])
def test_a_file_meant_as_a_sample_in_the_wrong_format_is_an_error(tmp_path, write_samples, name):
    folder = write_samples(tmp_path / "samples", "Ho")
    (folder / name).write_bytes(b"\x00")
    assert error_of(lambda: find_sample_files(folder, LATIN)) == f"{folder / name}: not an image file (expected PNG, JPEG, BMP or TIFF)."


# -- odd images are named -------------------------------------------------------


def test_a_multi_page_tiff_says_only_its_first_page_is_read(tmp_path, reference, write_samples):
    folder = write_samples(tmp_path / "samples", "Ho")
    first, second = (Image.fromarray(padded(draw_char(c, reference), (260, 240))) for c in "AV")
    first.save(folder / "uni0041.tif", save_all=True, append_images=[second, second])
    notes = Notes()
    inks = read_inks(folder, LATIN, notes)
    assert f"{folder / 'uni0041.tif'}: the file holds 3 pages; only the first is read." in notes.lines
    expected = samples.load_ink(png(np.asarray(first), tmp_path / "first.png"))
    assert np.array_equal(inks["A"][1], expected)


@pytest.fixture(scope="module")
def small_set(tmp_path_factory, reference) -> Path:
    """Eight samples of one size (about 250 px), the size of a typical cropped photo set here."""
    folder = tmp_path_factory.mktemp("small")
    for char in "AHObdgpx":
        png(padded(draw_char(char, reference), (260, 240)), folder / f"uni{ord(char):04X}.png")
    return folder


def with_a_huge_photo(folder: Path, into: Path, factor: int = 12) -> Path:
    """A copy of ``folder`` whose ``A`` is photographed ``factor`` times closer (about 3000 px)."""
    shutil.copytree(folder, into)
    with Image.open(folder / "uni0041.png") as image:
        image.resize((image.width * factor, image.height * factor), Image.Resampling.BICUBIC).save(into / "uni0041.png")
    return into


def test_one_huge_photo_does_not_shrink_the_others(tmp_path, small_set, reference):
    folder = with_a_huge_photo(small_set, tmp_path / "mixed")
    notes = Notes()
    mixed = read_inks(folder, LATIN, notes)
    alone = read_inks(small_set, LATIN)
    assert f"{folder / 'uni0041.png'}: the image is 2880x3120 pixels, far larger than the other samples" in notes.lines[0]
    assert "it is reduced to their size on its own" in notes.lines[0]
    for char in "HObdgpx":  # read exactly as without the photo
        assert np.array_equal(mixed[char][1], alone[char][1]), char
    assert mixed["A"][1].shape == pytest.approx(alone["A"][1].shape, rel=0.05)
    canvas = Canvas(64)
    assert load_samples(folder, LATIN, reference, canvas).scale == pytest.approx(load_samples(small_set, LATIN, reference, canvas).scale, rel=0.02)


def test_a_glyph_far_off_the_sets_scale_is_named(tmp_path, small_set, reference):
    folder = shutil.copytree(small_set, tmp_path / "samples")
    png(padded(draw_char("H", reference, size=40, margin=10), (260, 240)), folder / "uni0048.png")  # same paper, a quarter of the size
    notes = Notes()
    placed = load_samples(folder, LATIN, reference, Canvas(64), notes)
    assert list(placed.off_scale) == ["H"]
    assert placed.off_scale["H"] == pytest.approx(1 / 4, rel=0.1)
    assert notes.lines[1:] == [  # after the note that no sample is a digit
        f"{folder / 'uni0048.png'}: the ink of U+0048 'H' is {1 / placed.off_scale['H']:.1f} times smaller than the other samples' scale predicts "
        "(a different zoom or crop, or the wrong character?); it is placed at that size."
    ]
    assert placed.scale == pytest.approx(load_samples(small_set, LATIN, reference, Canvas(64)).scale, rel=0.02)


def test_reducing_an_image_makes_no_full_size_float_copy(tmp_path, reference):
    path = png(padded(draw_char("A", reference, size=1600), (4000, 3000)), tmp_path / "uni0041.png")
    tracemalloc.start()
    try:
        grey = read_grey(path, reduce=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert grey.shape == (400, 300)
    assert peak < 4000 * 3000  # less than one byte a source pixel; one float64 copy would be 96 MB


def test_no_raw_pil_warning_reaches_the_user(monkeypatch, small_set):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40_000)  # the 62,400-pixel samples now trip PIL's warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_inks(small_set, LATIN)) == 8


def test_an_image_beyond_the_pixel_limit_is_refused_in_one_sentence(monkeypatch, small_set):
    monkeypatch.setattr(samples, "MAX_IMAGE_PIXELS", 50_000)
    assert error_of(lambda: read_inks(small_set, LATIN)) == (
        f"{small_set / 'uni0041.png'}: the image is 240x260 pixels, beyond the 0.05 megapixels glyphgen reads; save it at a lower resolution."
    )
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # an application lowered PIL's own limit below ours
    assert error_of(lambda: read_inks(small_set, LATIN)) == (
        f"{small_set / 'uni0041.png'}: the image is larger than PIL's limit of 0.04 megapixels; save it at a lower resolution."
    )


# -- small sets ----------------------------------------------------------------


@pytest.mark.parametrize("chars, count", [("A", "1 sample is"), ("AH", "2 samples are")])
def test_too_few_samples_are_refused(tmp_path, write_samples, chars, count):
    folder = write_samples(tmp_path / "s", chars)
    assert error_of(lambda: read_inks(folder, LATIN)) == (
        f"{folder}: {count} too few to build a font from; write at least 3, ideally these 30: ABDEGHMORSabdefghkmnoprsty0125."
    )


def test_a_small_set_is_told_what_it_lacks(tmp_path, write_samples):
    folder = write_samples(tmp_path / "s", "AHx")
    notes = Notes()
    read_inks(folder, LATIN, notes)
    assert notes.lines == [
        f"{folder}: only 3 samples, and none of them shows round (o O c C …), ascender (b d h k …), descender (g p y q …) or digit (0 1 2 3 …) shapes, "
        "so the font will follow the reference more than your hand; 30 are recommended: ABDEGHMORSabdefghkmnoprsty0125."
    ]


def test_a_set_lacking_one_kind_of_shape_is_told_so(small_set):
    notes = Notes()
    read_inks(small_set, LATIN, notes)
    assert notes.lines == [f"{small_set}: none of the 8 samples shows digit (0 1 2 3 …) shapes, so those will follow the reference more than your hand."]


def test_a_script_without_shape_groups_gets_only_the_count(tmp_path, write_samples):
    bare = Charset("bare", LATIN.codepoints, replace(LATIN.script, shape_groups=()))
    folder = write_samples(tmp_path / "s", "AHx")
    notes = Notes()
    read_inks(folder, bare, notes)
    assert notes.lines == [
        f"{folder}: only 3 samples, so the font will follow the reference more than your hand; 30 are recommended: ABDEGHMORSabdefghkmnoprsty0125."
    ]
    read_inks(write_samples(tmp_path / "t", "AHxbdgo0"), bare, notes)
    assert len(notes.lines) == 1


def test_a_set_showing_every_kind_of_shape_reads_without_a_note(tmp_path, write_samples):
    notes = Notes()
    read_inks(write_samples(tmp_path / "s", "AHOdgp05"), LATIN, notes)
    assert notes.lines == []


def test_the_recommended_samples_show_every_kind_of_shape(tmp_path):
    notes = Notes()
    check_coverage(tuple(LATIN.script.recommended_samples), tmp_path, LATIN, notes)
    assert notes.lines == []
