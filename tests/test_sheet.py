"""From paper to font: the template sheet, photos and scans of it read back, and what bad pictures are told.

The sheets are filled with glyphs of bundled library fonts (corpus fonts, never
held-out ones) at one writer's size, then photographed or scanned by simulation
(glyphgen.synthetic): every written box must come back at IoU >= 0.9 against the
ink put in it, in its place.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from PIL import Image, ImageFilter

from glyphgen.charset import get_charset
from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.progress import Progress
from glyphgen.resources import demo_samples, library_fonts
from glyphgen.ruling import remove_ruling
from glyphgen.samples import binarize, read_inks
from glyphgen.scan import read_page, read_sheets
from glyphgen.scripts import KOREAN, LATIN
from glyphgen.sheet import Layout, PageCode, draw_page, template_pages
from glyphgen.synthetic import filled_sheet, photograph_sheet, scan_sheet

LATIN_SET = get_charset("latin")
EMPTY = "ty"  # two boxes the writer leaves empty


class Notes(Progress):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_sentence(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def ious(reading, truths) -> dict[str, float]:
    scores = {}
    for char, truth in truths.items():
        read = binarize(remove_ruling(reading.boxes[char], char))
        scores[char] = float((read & truth).sum() / max((read | truth).sum(), 1))
    return scores


@pytest.fixture(scope="module")
def latin_sheet():
    """The recommended Latin sheet written in Comic Neue, two boxes left empty."""
    code = template_pages(LATIN.recommended_samples, "a4")[0]
    font = next(f for f in library_fonts() if f.name.startswith("ComicNeue"))
    page, truths = filled_sheet(code, LATIN, font, empty=EMPTY)
    return code, page, truths


def test_the_page_code_round_trips_and_names_its_template():
    pages = template_pages(LATIN.recommended_samples + "cijlquvwxz346789", "letter")
    assert [p.page for p in pages] == [1, 2] and {p.pages for p in pages} == {2}
    assert "".join(p.chars for p in pages) == LATIN.recommended_samples + "cijlquvwxz346789"
    assert len(pages[0].chars) == Layout(pages[0].layout.paper).boxes_per_page == 36
    for page in pages:
        assert PageCode.parse(page.text()) == page
    hangul = template_pages(KOREAN.recommended_samples, "a4")[0]
    assert PageCode.parse(hangul.text()).chars == KOREAN.recommended_samples
    assert template_pages("ABC", "a4")[0].template != template_pages("ABD", "a4")[0].template
    assert PageCode.parse("https://example.com") is None


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_a_phone_photo_at_any_quarter_turn_reads_every_box_back(tmp_path, latin_sheet, turns):
    code, page, truths = latin_sheet
    photo = tmp_path / "photo.jpg"
    photograph_sheet(page, np.random.default_rng(turns), turns=turns).save(photo)
    reading = read_page(photo)
    assert reading.code == code
    scores = ious(reading, truths)
    assert min(scores.values()) >= 0.9, sorted(scores.items(), key=lambda kv: kv[1])[:3]
    for char in EMPTY:
        assert not binarize(remove_ruling(reading.boxes[char], char)).any(), f"box {char} should read empty"
    assert reading.overflowing == {}


def test_a_flatbed_scan_of_a_greyscale_printout_reads_every_box_back(tmp_path, latin_sheet):
    """Printed in grey, the guides do not drop out of the red channel; the ruling remover takes them."""
    code, page, truths = latin_sheet
    grey_print = Image.fromarray(np.asarray(page.convert("L").convert("RGB")))
    scan = tmp_path / "scan.jpg"
    scan_sheet(grey_print, np.random.default_rng(7), grey=True).save(scan)
    reading = read_page(scan)
    scores = ious(reading, truths)
    assert min(scores.values()) >= 0.9, sorted(scores.items(), key=lambda kv: kv[1])[:3]
    for char in EMPTY:  # bare guide lines, nothing else: no ink, and no refusal as "too much ruling"
        assert not binarize(remove_ruling(reading.boxes[char], char)).any()


def test_a_coarse_150_dpi_scan_reads_every_box_back(tmp_path):
    code = template_pages(LATIN.recommended_samples, "letter")[0]
    page, truths = filled_sheet(code, LATIN, next(f for f in library_fonts() if f.name.startswith("Mali")), dpi=150)
    scan = tmp_path / "coarse.png"
    scan_sheet(page, np.random.default_rng(2)).save(scan)
    assert min(ious(read_page(scan), truths).values()) >= 0.9


def test_a_korean_sheet_reads_back_and_its_empty_boxes_read_empty(tmp_path):
    """Dongle's thin strokes; the empty boxes lie in light brighter at their middle, not to be taken for light ink on dark paper."""
    code = template_pages(KOREAN.recommended_samples, "a4")[0]
    page, truths = filled_sheet(code, KOREAN, next(f for f in library_fonts("korean") if f.name.startswith("Dongle")), empty="뭐엌")
    photo = tmp_path / "hangul.jpg"
    photograph_sheet(page, np.random.default_rng(1)).save(photo, quality=90)
    reading = read_page(photo)
    assert reading.code.chars == KOREAN.recommended_samples
    assert min(ious(reading, truths).values()) >= 0.9
    for char in "뭐엌":
        assert not binarize(remove_ruling(reading.boxes[char], char)).any()


def test_pages_in_any_order_become_one_sample_set_and_empty_boxes_are_named(tmp_path):
    chars = LATIN.recommended_samples + "cijlquvwxz3467"
    font = next(f for f in library_fonts() if f.name.startswith("Itim"))
    photos = []
    for code in reversed(template_pages(chars, "a4")):
        page, _ = filled_sheet(code, LATIN, font, empty="z")
        photos.append(tmp_path / f"page{code.page}.png")
        scan_sheet(page, np.random.default_rng(code.page)).save(photos[-1])
    notes = Notes()
    inks = read_inks(None, LATIN_SET, notes, scans=photos)
    assert set(inks) == set(chars) - {"z"}
    assert inks["6"][0].name == "page2.png, box 1"  # 42 boxes on an A4 page
    assert any("1 box left empty" in note and "z" in note for note in notes.notes), notes.notes
    notes = Notes()
    read_inks(None, LATIN_SET, notes, scans=photos[1:])  # page 1 of 2 alone (the photos were made last page first)
    assert any("page 2 of the 2-page sheet was not given; their characters are generated" in note for note in notes.notes), notes.notes
    # A character's sizes are kept: one scale for the set, so a lowercase x is shorter than a capital.
    assert inks["x"][1].shape[0] < 0.8 * inks["H"][1].shape[0]


def test_a_sample_folder_wins_over_the_sheet_for_the_characters_it_names(tmp_path, latin_sheet):
    _, page, _ = latin_sheet
    photo = tmp_path / "photo.png"
    scan_sheet(page, np.random.default_rng(1)).save(photo)
    folder = tmp_path / "redrawn"
    folder.mkdir()
    Image.open(photo).crop((400, 800, 900, 1300)).save(folder / "uni0041.png")  # any ink will do: it is the folder's
    notes = Notes()
    inks = read_inks(folder, LATIN_SET, notes, scans=[photo])
    assert inks["A"][0] == folder / "uni0041.png"
    assert inks["B"][0].name == "photo.png, box 2"
    assert any("replace the sheet's boxes" in note and "'A'" in note for note in notes.notes), notes.notes


@pytest.mark.parametrize("grey_print", [False, True], ids=["colour", "greyscale"])
def test_ink_over_a_box_border_is_read_beyond_it_with_a_warning(tmp_path, grey_print):
    """A stroke from 4 mm inside box 2 to 3 mm below it: read down to OVERFLOW_READ_MM past the border, the border line taken out."""
    code = template_pages("ABCDEF", "a4")[0]
    page, truths = filled_sheet(code, LATIN, library_fonts()[0], empty="B")
    if grey_print:
        page = page.convert("L").convert("RGB")
    dpmm = 300 / 25.4
    left, _, _, bottom = code.layout.box(1)
    ink = np.asarray(page).copy()
    ink[round((bottom - 4) * dpmm) : round((bottom + 3) * dpmm), round((left + 12) * dpmm) : round((left + 13.5) * dpmm)] = (30, 36, 72)
    photo = tmp_path / "over.png"
    scan_sheet(Image.fromarray(ink), np.random.default_rng(0)).save(photo)
    notes = Notes()
    boxes = read_sheets([photo], LATIN_SET, notes)
    said = f"{photo}, box 2: the ink of U+0042 'B' runs over the box's bottom border; it is read up to 1.4 mm beyond, and anything further is cut off."
    assert notes.notes == [said]
    stroke = binarize(remove_ruling(boxes["B"][1], "B"))
    rows, columns = np.nonzero(stroke)
    assert (rows.max() - rows.min() + 1) / 12 == pytest.approx(4 + 1.4, abs=0.25)  # mm: from its top to the end of what is read
    assert (columns.max() - columns.min() + 1) / 12 == pytest.approx(1.5, abs=0.25)  # one stroke, no border line beside it
    assert "A" not in notes.notes[0] and ious(read_page(photo), {"A": truths["A"]})["A"] >= 0.9


def _cropped(image: Image.Image, keep: str) -> Image.Image:
    w, h = image.size
    return image.crop((0, 0, w, int(h * 0.85))) if keep == "top" else image.crop((int(w * 0.2), 0, w, h))


@pytest.mark.parametrize(
    "spoil, fragments",
    [
        (lambda page: Image.new("RGB", (1200, 900), (120, 110, 100)), ["no glyphgen template sheet found"]),
        (lambda page: Image.open(demo_samples() / "uni0061.png"), ["no glyphgen template sheet found"]),
        (lambda page: _cropped(page, "top"), ["bottom-right and bottom-left corner markers are not in the picture"]),
        (lambda page: _cropped(page, "right"), ["top-left and bottom-left corner markers are not in the picture"]),
        (lambda page: page.filter(ImageFilter.GaussianBlur(14)), ["too blurred"]),
        (lambda page: Image.eval(page, lambda v: v // 14), ["too dark"]),
    ],
    ids=["table", "one-character", "bottom-cut-off", "left-cut-off", "blurred", "dark"],
)
def test_a_bad_picture_gets_one_sentence(tmp_path, latin_sheet, spoil, fragments):
    photo = tmp_path / "bad.jpg"
    spoil(latin_sheet[1]).save(photo)
    one_sentence(run("extract", "--scan", photo, "--out", tmp_path / "out"), str(photo), *fragments)
    assert not (tmp_path / "out").exists()


def test_an_unreadable_page_code_is_said(tmp_path, latin_sheet):
    code, page, _ = latin_sheet
    left, top, right, bottom = (round(v * 300 / 25.4) for v in code.layout.code())
    spoiled = page.copy()
    spoiled.paste((255, 255, 255), (left + 60, top + 60, right - 60, bottom - 60))
    photo = tmp_path / "nocode.png"
    spoiled.save(photo)
    one_sentence(run("extract", "--scan", photo, "--out", tmp_path / "out"), str(photo), "page code", "cannot be read")


def test_two_pages_in_one_photo_are_refused(tmp_path, latin_sheet):
    _, page, _ = latin_sheet
    both = Image.new("RGB", (page.width * 2 + 100, page.height), (120, 110, 100))
    both.paste(page, (0, 0))
    both.paste(page, (page.width + 100, 0))
    photo = tmp_path / "both.jpg"
    both.save(photo)
    one_sentence(run("extract", "--scan", photo, "--out", tmp_path / "out"), str(photo), "more than one sheet", "one page at a time")


def test_two_photos_of_one_page_and_pages_of_two_templates_are_refused(tmp_path, latin_sheet):
    _, page, _ = latin_sheet
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    page.save(first)
    page.save(second)
    one_sentence(run("extract", "--scan", first, "--scan", second, "--out", tmp_path / "o"), str(second), "page 1 was given twice", str(first))
    other = tmp_path / "other.png"
    draw_page(template_pages("XYZ", "a4")[0], LATIN).save(other)
    one_sentence(run("extract", "--scan", first, "--scan", other, "--out", tmp_path / "o"), str(other), "another template sheet")


def test_a_sheet_of_another_charset_is_refused(tmp_path):
    photo = tmp_path / "hangul.png"
    draw_page(template_pages(KOREAN.recommended_samples, "a4")[0], KOREAN).save(photo)
    result = run("extract", "--scan", photo, "--out", tmp_path / "o")
    one_sentence(result, str(photo), "U+B113 '넓'", "not in the latin charset", "printed for --charset korean")


def test_template_writes_a_printable_pdf_and_pngs_and_never_overwrites(tmp_path):
    pdf = tmp_path / "sheet.pdf"
    result = run("template", "--out", pdf)
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.read_bytes().count(b"/Type /Page\n") == 1
    result = run("template", "--charset", "latin", "--all", "--paper", "letter", "--out", tmp_path / "all.png")
    assert result.exit_code == 0 and "94 characters on 3 Letter pages" in result.output
    with Image.open(tmp_path / "all-3.png") as third:
        assert third.size == (round(215.9 / 25.4 * 300), round(279.4 / 25.4 * 300))
    before = pdf.read_bytes()
    one_sentence(run("template", "--out", pdf), str(pdf), "already exists", "--force")
    assert pdf.read_bytes() == before
    one_sentence(run("template", "--chars", "ABA", "--out", tmp_path / "x.pdf"), "'A' is given twice")
    one_sentence(run("template", "--chars", "가", "--out", tmp_path / "x.pdf"), "not in the latin charset")


def test_extract_then_build_from_a_photographed_sheet(tmp_path, latin_sheet):
    _, page, _ = latin_sheet
    photo = tmp_path / "photo.jpg"
    photograph_sheet(page, np.random.default_rng(11)).save(photo)
    result = run("extract", "--scan", photo, "--out", tmp_path / "my30")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "my30").iterdir())
    assert len(written) == len(LATIN.recommended_samples) - len(EMPTY) and "uni0067.png" in written and "uni0074.png" not in written
    one_sentence(run("extract", "--scan", photo, "--out", tmp_path / "my30"), "already holds", "--force")

    out = tmp_path / "font"
    result = run("build", "--scan", photo, "--out", out, "--backend", "retrieval", "--family", "Łukasz Hand")
    assert result.exit_code == 0, result.output
    assert "28 glyphs from your samples" in result.output
    assert "2 boxes left empty" in result.stderr
    font = TTFont(out / "ŁukaszHand-Regular.ttf") if (out / "ŁukaszHand-Regular.ttf").exists() else TTFont(next(out.glob("*.ttf")))
    assert {ord(c) for c in LATIN.recommended_samples} <= set(font.getBestCmap())


def test_the_samples_guide_points_to_the_sheet():
    result = run("samples", "--charset", "korean")
    assert "glyphgen template --charset korean --out sheet.pdf" in result.output


def test_build_needs_samples_or_a_scan(tmp_path):
    one_sentence(run("build", "--out", tmp_path / "o"), "--samples FOLDER, --scan PHOTO")


def test_a_file_that_is_no_image_is_one_sentence(tmp_path):
    bogus = tmp_path / "photo.jpg"
    bogus.write_text("not a photo")
    with pytest.raises(GlyphgenError, match="not a readable image"):
        read_page(bogus)
