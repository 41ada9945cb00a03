"""Ruled and squared paper: its lines are removed before binarisation, the character's strokes never are."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from glyphgen import bitmap, ruling, synthetic
from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.samples import load_ink, read_grey

from .conftest import draw_char

BLACK_PEN = (25, 25, 25)  # the colour draw_char's black ink has once printed lines darken it a little

# Paper the pen is clearly darker than: darkness alone separates them, so the ink must come back almost exactly.
LIGHT_PAPERS = {
    "blue lines": dict(spacing=48, colour=synthetic.BLUE_RULING, thickness=2, tilt_deg=1.0, phase=9),
    "grey lines, tilted": dict(spacing=48, colour=synthetic.GREY_RULING, thickness=2, tilt_deg=2.5, phase=7),
    "red margin": dict(spacing=48, colour=synthetic.BLUE_RULING, thickness=2, margin_at=25, tilt_deg=-1.0),
    "blue squares": dict(spacing=40, colour=synthetic.BLUE_RULING, thickness=1.5, squared=True, tilt_deg=1.0, phase=5),
    "grey squares, tilted": dict(spacing=40, colour=(90, 90, 90), thickness=2, squared=True, tilt_deg=-2.5, phase=3),
}
# Lines as dark as the pen: where a stroke rests on one, what is pen cannot be seen.
DARK_PAPERS = {
    "black lines": dict(spacing=48, colour=BLACK_PEN, thickness=3, tilt_deg=-1.5, phase=11),
    "black squares": dict(spacing=48, colour=BLACK_PEN, thickness=3, squared=True, tilt_deg=1.0, phase=20),
}


def ink_on(tmp_path, char: str, reference, paper: dict | None) -> np.ndarray:
    """load_ink of ``char`` drawn with the reference font, on plain paper or on ``synthetic.rule(**paper)``."""
    image = Image.fromarray(draw_char(char, reference)).convert("RGB")
    if paper is not None:
        image = synthetic.rule(image, **paper)
    path = tmp_path / f"uni{ord(char):04X}-{len(list(tmp_path.iterdir()))}.png"
    image.save(path)
    return load_ink(path)


def agreement(clean: np.ndarray, ruled: np.ndarray) -> tuple[float, int]:
    """IoU of two cropped inks at their best alignment within 2 px, and how many pixels their crop boxes differ by."""
    height, width = max(clean.shape[0], ruled.shape[0]) + 4, max(clean.shape[1], ruled.shape[1]) + 4
    a = np.zeros((height, width), dtype=bool)
    a[2 : 2 + clean.shape[0], 2 : 2 + clean.shape[1]] = clean
    best = 0.0
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            b = np.zeros((height, width), dtype=bool)
            b[2 + dy : 2 + dy + ruled.shape[0], 2 + dx : 2 + dx + ruled.shape[1]] = ruled
            best = max(best, bitmap.iou(a, b))
    return best, max(abs(clean.shape[0] - ruled.shape[0]), abs(clean.shape[1] - ruled.shape[1]))


@pytest.mark.parametrize("paper", LIGHT_PAPERS, ids=list(LIGHT_PAPERS))
def test_lines_lighter_than_the_pen_leave_the_ink_as_on_plain_paper(tmp_path, reference, paper):
    # Measured: IoU 0.998-1.000, boxes equal or 1-2 px apart (an anti-aliased corner pixel on a line, unmixed, can fall
    # either side of the threshold).
    for char in "Ag=T_l":
        iou, box = agreement(ink_on(tmp_path, char, reference, None), ink_on(tmp_path, char, reference, LIGHT_PAPERS[paper]))
        assert iou >= 0.98 and box <= 2, (char, iou, box)


@pytest.mark.parametrize("paper", DARK_PAPERS, ids=list(DARK_PAPERS))
def test_lines_as_dark_as_the_pen_are_bridged_where_strokes_cross_them(tmp_path, reference, paper):
    # Where a stroke ends on such a line, or runs along it, up to the line's thickness of it goes with the line, and
    # crossings inside strokes are rebuilt from straight edges: the floors allow that (measured: IoU 0.946-1.000,
    # boxes up to 3 px apart) and no more, so the crop box cannot reach out to a line.
    for char in "AgxTE":
        iou, box = agreement(ink_on(tmp_path, char, reference, None), ink_on(tmp_path, char, reference, DARK_PAPERS[paper]))
        assert iou >= 0.93 and box <= 4, (char, iou, box)


@pytest.mark.parametrize("margin", [40, 2, 0])
def test_long_strokes_on_plain_paper_are_not_ruling(reference, margin):
    # Even cropped tight, so that a stroke meets both borders: a T's bar lies along the edge, an H's crossbar
    # reaches the borders only through its stems, a dash is far thicker than ruling for its image.
    for char in "-_=—|lTEHZ7#":
        grey = draw_char(char, reference, margin=margin) / 255.0
        assert ruling.find_ruling(grey) == ([], []), char
        assert ruling.remove_ruling(grey, "x.png") is grey


def test_photographed_samples_have_no_ruling(demo_folder):
    for path in sorted(demo_folder.glob("*.png")):
        assert ruling.find_ruling(read_grey(path)) == ([], []), path.name


def test_every_line_of_squared_paper_is_found_even_under_a_stem(reference):
    grey = np.asarray(synthetic.rule(Image.fromarray(draw_char("l", reference)).convert("RGB"), 40, squared=True, phase=-20).convert("L")) / 255.0
    for lines, length in zip(ruling.find_ruling(grey), grey.shape):
        centres = np.array([line.centre for line in lines])
        # One line every 40 px from edge to edge: none missed, none extra.
        assert np.all(np.abs(np.diff(centres) - 40) <= 1) and centres[0] < 41 and centres[-1] > length - 42, centres


def test_ruled_photos_lose_their_lines(tmp_path, demo_folder):
    for name in ("uni0041.png", "uni0067.png", "uni0045.png"):
        plain = load_ink(demo_folder / name)
        for colour in (synthetic.BLUE_RULING, (35, 38, 70)):  # printed blue; as dark as the ballpoint
            synthetic.rule(Image.open(demo_folder / name), 130, colour=colour, thickness=3, tilt_deg=2.0, phase=30).save(tmp_path / name)
            iou, box = agreement(plain, load_ink(tmp_path / name))
            assert iou >= 0.95 and box <= 5, (name, colour, iou, box)


def test_light_ink_on_dark_ruled_paper(tmp_path, reference):
    image = synthetic.rule(Image.fromarray(draw_char("g", reference)).convert("RGB"), 48, colour=synthetic.GREY_RULING, thickness=2, tilt_deg=1.0)
    Image.fromarray(255 - np.asarray(image)).save(tmp_path / "inverse.png")  # a white pen on dark paper with lighter lines
    iou, box = agreement(ink_on(tmp_path, "g", reference, None), load_ink(tmp_path / "inverse.png"))
    assert iou >= 0.98 and box <= 1


def fine_grid(path, reference):
    image = synthetic.rule(Image.fromarray(draw_char("g", reference)).convert("RGB"), 14, colour=BLACK_PEN, thickness=3, squared=True, tilt_deg=1.0)
    image.save(path)
    return path


def test_a_grid_too_fine_to_separate_is_refused(tmp_path, reference):
    path = fine_grid(tmp_path / "uni0067.png", reference)
    with pytest.raises(GlyphgenError, match=r"uni0067\.png: the lines of the ruled or squared paper cover too much of the character"):
        load_ink(path)


def test_a_grid_too_fine_to_separate_through_the_cli(tmp_path, reference, write_samples):
    samples = write_samples(tmp_path / "s", "AHx")
    fine_grid(samples / "uni0067.png", reference)
    result = CliRunner().invoke(main, ["build", "--samples", str(samples), "--out", str(tmp_path / "o"), "--backend", "retrieval"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "uni0067.png" in lines[0] and "draw it on plain paper" in lines[0], result.stderr
    assert not (tmp_path / "o").exists()
