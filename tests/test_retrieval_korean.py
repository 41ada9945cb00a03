"""The retrieval baseline in Korean: it picks among the bundled Korean fonts and draws Hangul like the nearest one."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json

import numpy as np
import pytest
from PIL import Image

from glyphgen import bitmap
from glyphgen.backends import FewShotTask
from glyphgen.backends.retrieval import RetrievalBackend, RetrievalConfig
from glyphgen.canvas import Canvas
from glyphgen.charset import get_charset
from glyphgen.errors import GlyphgenError
from glyphgen.render import missing_chars, render_glyphs
from glyphgen.resources import data_dir, library_fonts
from glyphgen.samples import load_samples
from glyphgen.scripts import KOREAN, LATIN

from .conftest import draw_char

CANVAS = Canvas(64)
SAMPLES = KOREAN.recommended_samples[:10]
UNSEEN = KOREAN.recommended_samples[20:25]  # syllables the samples do not show, each a different layout or letter
MEGABYTE = 2**20


@pytest.fixture(scope="module")
def korean_library():
    return library_fonts("korean")


def font_named(library, stem):
    return next(p for p in library if p.stem.startswith(stem))


def korean_task(folder, font, reference, chars=SAMPLES, targets=UNSEEN):
    for char in chars:
        Image.fromarray(draw_char(char, font, size=150)).save(folder / f"uni{ord(char):04X}.png")
    samples = load_samples(folder, get_charset("korean"), reference, CANVAS)
    content = dict(zip(chars + targets, render_glyphs(reference, list(chars + targets), CANVAS)))
    return FewShotTask(CANVAS, samples.on_canvas(CANVAS), content, reference, script=KOREAN)


def test_the_korean_library_is_its_own_folder_of_fonts(korean_library):
    assert library_fonts() == library_fonts("latin")
    assert {p.parent.name for p in library_fonts()} == {"library"}
    assert {p.parent.name for p in korean_library} == {"library-korean"}
    assert 5 <= len(korean_library) <= 6
    folder = korean_library[0].parent
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 6 * MEGABYTE


def test_every_korean_library_font_has_its_license_and_manifest_entry(korean_library):
    folder = korean_library[0].parent
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(entry["file"] for entry in manifest) == sorted(p.name for p in korean_library)
    for entry in manifest:
        path = folder / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert entry["license"] == "OFL-1.1" and entry["source"].startswith("npm:@fontsource/")
        assert "SIL Open Font License" in (folder / "licenses" / f"{path.stem}.txt").read_text(encoding="utf-8")
    assert len({entry["style"] for entry in manifest}) == len(manifest)  # each a style of its own


def test_every_korean_library_font_draws_every_syllable_letter_and_digit(korean_library):
    syllables = [c for c in get_charset("korean").inked_chars if KOREAN.owns(c)]
    assert len(syllables) == 2350
    alphanumeric = [c for c in get_charset("korean").inked_chars if c.isascii() and c.isalnum()]
    for font in korean_library:
        assert missing_chars(font, syllables + alphanumeric) == [], font.name
        # mapped is not drawn: a sample of the syllables has ink
        drawn = render_glyphs(font, syllables[::235], Canvas(32))
        assert all(glyph.max() > 0.5 for glyph in drawn), font.name


def test_the_fetch_script_lists_the_bundled_korean_fonts(korean_library):
    spec = importlib.util.spec_from_file_location("fetch_fonts", data_dir("fonts") / "fetch_fonts.py")
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    assert sorted(item["ps"] for item in fetch.KOREAN_LIBRARY) == sorted(p.stem for p in korean_library)
    assert len(fetch.KOREAN_CODEPOINTS) == len(get_charset("korean").chars)


@pytest.mark.parametrize("stem", ["Jua", "SongMyung"])
def test_a_korean_task_finds_the_font_its_samples_were_written_in(tmp_path, korean_library, stem):
    font = font_named(korean_library, stem)
    task = korean_task(tmp_path, font, KOREAN.reference_font())
    backend = RetrievalBackend(RetrievalConfig(canvas_size=CANVAS.size))
    report = backend.fit(task)
    assert backend.ranking[0].path == font, report.summary
    # It chose among the Korean fonts (and the reference), never the Latin library.
    assert {f.path for f in backend.ranking} <= set(korean_library) | {KOREAN.reference_font()}
    content = np.stack([task.content[c] for c in UNSEEN])[:, None]
    generated = backend.generate(content, UNSEEN)
    assert generated.shape == (len(UNSEEN), 1, CANVAS.size, CANVAS.size) and generated.dtype == np.float32
    truth = render_glyphs(font, list(UNSEEN), CANVAS, scale=backend.ranking[0].scale)
    reference = render_glyphs(KOREAN.reference_font(), list(UNSEEN), CANVAS, scale=backend.ranking[0].scale)
    for made, real, plain in zip(generated[:, 0], truth, reference):
        made = bitmap.ink_mask(made)
        assert bitmap.iou(made, bitmap.ink_mask(real)) > 0.75
        assert bitmap.iou(made, bitmap.ink_mask(real)) > bitmap.iou(made, bitmap.ink_mask(plain))  # the font's Hangul, not the reference's


def test_a_latin_task_still_picks_among_the_latin_library(tmp_path, reference, library):
    chars, targets = "AHRabdegnoy", "BkqsW"
    courier = font_named(library, "CourierPrime")
    for char in chars:
        Image.fromarray(draw_char(char, courier, size=150)).save(tmp_path / f"uni{ord(char):04X}.png")
    samples = load_samples(tmp_path, get_charset("latin"), reference, CANVAS)
    content = dict(zip(chars + targets, render_glyphs(reference, list(chars + targets), CANVAS)))
    task = FewShotTask(CANVAS, samples.on_canvas(CANVAS), content, reference, script=LATIN)
    backend = RetrievalBackend(RetrievalConfig(canvas_size=CANVAS.size))
    backend.fit(task)
    assert backend.ranking[0].path == courier
    assert {f.path for f in backend.ranking} <= set(library) | {reference}
    assert len(backend.ranking) == len(library) + 1


def test_a_script_without_a_bundled_library_is_one_sentence(tmp_path, korean_library):
    task = korean_task(tmp_path, font_named(korean_library, "Jua"), KOREAN.reference_font(), chars=SAMPLES[:3], targets="")
    task.script = dataclasses.replace(KOREAN, name="nowhere")
    with pytest.raises(GlyphgenError, match="no bundled nowhere font library"):
        RetrievalBackend(RetrievalConfig(canvas_size=CANVAS.size)).fit(task)
