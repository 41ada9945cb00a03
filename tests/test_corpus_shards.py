"""The corpus's glyph cache: one memory-mapped shard per font, read only where indexed, reused across processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glyphgen import bitmap
from glyphgen.canvas import MEASURE_SIZE, Canvas
from glyphgen.charset import get_charset
from glyphgen.corpus import CorpusFont, ShardedGlyphs, placed_corpus, render_corpus, squash, write_manifest
from glyphgen.errors import GlyphgenError
from glyphgen.render import render_glyphs
from glyphgen.samples import place_samples

REPO = Path(__file__).resolve().parent.parent
RENDER = Canvas(32)  # tiny, so that placing four fonts takes a second
MODEL = Canvas(24)


def make_corpus(folder: Path, fonts: list[Path], canvas: Canvas | None = RENDER) -> Path:
    """A corpus of ``fonts`` (the last one for validation), rendered on ``canvas`` unless None."""
    (folder / "fonts").mkdir(parents=True)
    entries = []
    for i, path in enumerate(fonts):
        (folder / "fonts" / path.name).write_bytes(path.read_bytes())
        split = "validation" if i == len(fonts) - 1 else "train"
        entries.append(CorpusFont(path.stem, squash(path.stem), "test", "OFL-1.1", "test", f"fonts/{path.name}", "0" * 64, split))
    write_manifest(folder, entries, [])
    if canvas is not None:
        render_corpus(folder, entries, canvas)
    return folder


def placed_directly(font: Path, reference: Path, chars, render: Canvas, canvas: Canvas) -> tuple[np.ndarray, np.ndarray]:
    """One font placed without any cache: rendered, cropped to its ink and placed as a sample set."""
    rendered = np.round(render_glyphs(font, chars, render) * 255).astype(np.uint8)
    inks = {}
    for char, image in zip(chars, rendered):
        box = bitmap.ink_bbox(image >= 128)
        if box is not None:
            inks[char] = (font, (image >= 128)[box[0] : box[1], box[2] : box[3]])
    measure = canvas.scaled(MEASURE_SIZE)
    samples = place_samples(inks, dict(zip(chars, render_glyphs(reference, chars, measure))), measure).samples
    glyphs = np.zeros((len(chars), canvas.size, canvas.size), dtype=np.uint8)
    present = np.zeros(len(chars), dtype=bool)
    for j, char in enumerate(chars):
        if char in samples:
            glyphs[j] = np.round(samples[char].on_canvas(canvas) * 255)
            present[j] = True
    return glyphs, present


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, library) -> Path:
    return make_corpus(tmp_path_factory.mktemp("shards"), library[:3])


def test_placed_glyphs_round_trip_through_the_shards(corpus, library, reference):
    placed = placed_corpus(corpus, MODEL, reference)
    chars = get_charset("latin").inked_chars
    assert placed.chars == chars and placed.glyphs.shape == (3, len(chars), MODEL.size, MODEL.size)
    by_id = {squash(p.stem): p for p in library[:3]}
    for row, font in enumerate(placed.fonts):  # manifest order, whatever order the fonts were rendered in
        glyphs, present = placed_directly(by_id[font.id], reference, chars, RENDER, MODEL)
        np.testing.assert_array_equal(placed.glyphs[row], glyphs)
        np.testing.assert_array_equal(placed.present[row], present)
    assert placed.present.sum() > 0.9 * placed.present.size


def test_the_shards_are_read_lazily(corpus, reference, monkeypatch):
    placed = placed_corpus(corpus, MODEL, reference)
    assert isinstance(placed.glyphs, ShardedGlyphs) and isinstance(placed.glyphs[0], np.memmap)
    opened = []
    original = ShardedGlyphs.shard
    monkeypatch.setattr(ShardedGlyphs, "shard", lambda self, row: opened.append(row) or original(self, row))
    train = placed_corpus(corpus, MODEL, reference).split("train")
    assert len(train.fonts) == 2 and train.present.shape == (2, len(train.chars)) and opened == []
    batch = train.glyphs[np.array([1, 1, 0]), np.array([5, 6, 7])]
    assert sorted(set(opened)) == [0, 1] and batch.dtype == np.uint8 and batch.shape == (3, MODEL.size, MODEL.size)


def test_fancy_indexing_matches_numpys(corpus, reference):
    glyphs = placed_corpus(corpus, MODEL, reference).glyphs
    dense = np.asarray(glyphs)
    assert dense.shape == glyphs.shape and dense.dtype == np.uint8
    rng = np.random.default_rng(0)
    fonts, chars = rng.integers(0, 3, 50), rng.integers(0, glyphs.shape[1], 50)
    np.testing.assert_array_equal(glyphs[fonts, chars], dense[fonts, chars])
    chosen, columns = np.array([[2], [0]]), np.array([3, 1, 4])  # broadcast, as the few-shot episodes index
    np.testing.assert_array_equal(glyphs[chosen, columns], dense[chosen, columns])
    np.testing.assert_array_equal(glyphs[-1, 3], dense[-1, 3])
    np.testing.assert_array_equal(glyphs[[0, 2]], dense[[0, 2]])
    np.testing.assert_array_equal(glyphs[fonts, chars, 2:5], dense[fonts, chars, 2:5])
    assert glyphs[np.array([], dtype=int), np.array([], dtype=int)].shape == (0, MODEL.size, MODEL.size)
    with pytest.raises(IndexError):
        glyphs[np.array([3]), np.array([0])]


REUSE = """
import sys
from pathlib import Path
from glyphgen import corpus
from glyphgen.canvas import Canvas
from glyphgen.resources import reference_font

def refuse(*args):
    raise SystemExit("placed the corpus again")

corpus._place = refuse if sys.argv[2] == "reuse" else corpus._place
placed = corpus.placed_corpus(Path(sys.argv[1]), Canvas(int(sys.argv[3])), reference_font())
fonts, chars = placed.present.nonzero()
print(int(placed.glyphs[fonts, chars].astype(int).sum()))
"""


def _run(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", REUSE, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> int:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return int(out.split()[-1])


def test_another_process_reuses_the_cache(corpus, reference):
    placed = placed_corpus(corpus, MODEL, reference)
    fonts, chars = placed.present.nonzero()
    files = sorted(p for p in corpus.glob(f"placed-{MODEL.size}-*/*"))
    written = [p.stat().st_mtime_ns for p in files]
    assert _finish(_run(str(corpus), "reuse", str(MODEL.size))) == int(placed.glyphs[fonts, chars].astype(int).sum())
    assert sorted(corpus.glob(f"placed-{MODEL.size}-*/*")) == files and [p.stat().st_mtime_ns for p in files] == written


def test_ranks_placing_the_same_corpus_at_once_agree(corpus, reference):
    """Two processes place a canvas nobody has placed yet, at the same time: each renames its own files, both read the same."""
    sums = [_finish(p) for p in [_run(str(corpus), "place", "20"), _run(str(corpus), "place", "20")]]
    placed = placed_corpus(corpus, Canvas(20), reference)
    fonts, chars = placed.present.nonzero()
    assert sums[0] == sums[1] == int(placed.glyphs[fonts, chars].astype(int).sum())
    assert not [p for p in corpus.rglob("*") if p.name.endswith(".tmp")]


def test_a_corpus_rendered_in_the_old_format_is_rendered_again(tmp_path, library, reference):
    """The one dense glyphs.npz of earlier versions: its canvas is kept, its glyphs rendered again into shards."""
    old = make_corpus(tmp_path / "old", library[:2], canvas=None)
    np.savez_compressed(old / "glyphs.npz", glyphs=np.zeros((2, 1, 1, 1), np.uint8), canvas=np.array([RENDER.size, -0.3, 1.0, 1000.0]))
    new = make_corpus(tmp_path / "new", library[:2])
    np.testing.assert_array_equal(np.asarray(placed_corpus(old, MODEL, reference).glyphs), np.asarray(placed_corpus(new, MODEL, reference).glyphs))
    assert (old / "rendered" / "index.npz").is_file()


def test_an_unrendered_corpus_says_so(tmp_path, library, reference):
    folder = make_corpus(tmp_path / "c", library[:1], canvas=None)
    with pytest.raises(GlyphgenError, match="not rendered; run `glyphgen corpus build`"):
        placed_corpus(folder, MODEL, reference)


def test_shard_bytes_per_font_are_chars_times_pixels(corpus):
    shard = sorted((corpus / "rendered").glob("*.npy"))[0]
    chars = len(get_charset("latin").inked_chars)
    assert chars * RENDER.size**2 <= shard.stat().st_size <= chars * RENDER.size**2 + 128  # a .npy header, nothing else
