"""Shared fixtures: the bundled fonts and samples, and a maker of sample images."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from glyphgen.resources import demo_samples, library_fonts, reference_font


@pytest.fixture(scope="session")
def reference() -> Path:
    return reference_font()


@pytest.fixture(scope="session")
def demo_folder() -> Path:
    return demo_samples()


@pytest.fixture(scope="session")
def library() -> list[Path]:
    return library_fonts()


@pytest.fixture
def free_port() -> int:
    """A TCP port nobody listens on, for a torchrun rendezvous."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory, library) -> Path:
    """A corpus of four bundled library fonts, three for training and one for validation, rendered at 64 px."""
    from glyphgen.canvas import Canvas
    from glyphgen.corpus import CorpusFont, render_corpus, squash, write_manifest

    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / "fonts").mkdir()
    fonts = []
    for i, path in enumerate(library[:4]):
        (corpus / "fonts" / path.name).write_bytes(path.read_bytes())
        fonts.append(CorpusFont(path.stem, squash(path.stem), "test", "OFL-1.1", "test", f"fonts/{path.name}", "0" * 64, "validation" if i == 3 else "train"))
    write_manifest(corpus, fonts, [])
    render_corpus(corpus, fonts, Canvas(64))
    return corpus


def draw_char(char: str, font: Path, size: int = 160, margin: int = 40) -> np.ndarray:
    """A character as dark ink on white paper, grey levels 0..255 (uint8)."""
    face = ImageFont.truetype(str(font), size)
    left, top, right, bottom = face.getbbox(char)
    image = Image.new("L", (right - left + 2 * margin, bottom - top + 2 * margin), 255)
    ImageDraw.Draw(image).text((margin - left, margin - top), char, font=face, fill=0)
    return np.asarray(image)


@pytest.fixture
def write_samples(reference):
    """Write sample images of ``chars`` into a folder, named uniXXXX.png."""

    def write(folder: Path, chars: str, font: Path | None = None, size: int = 160) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for char in chars:
            Image.fromarray(draw_char(char, font or reference, size)).save(folder / f"uni{ord(char):04X}.png")
        return folder

    return write


# A small fitting task: a library font plays the hand, these of its glyphs are the samples.
HAND_CHARS, HAND_SAMPLES = "HOnoaesbdpqx", "HOnoaesb"


@pytest.fixture(scope="module")
def task(library, reference):
    """The samples HAND_SAMPLES of a library font as a hand, on a 32 px canvas, with content glyphs for all of HAND_CHARS."""
    from glyphgen.backends import FewShotTask
    from glyphgen.canvas import Canvas
    from glyphgen.render import render_glyphs

    canvas = Canvas(32)
    hand = dict(zip(HAND_CHARS, render_glyphs(library[2], HAND_CHARS, canvas)))
    content = dict(zip(HAND_CHARS, render_glyphs(reference, HAND_CHARS, canvas)))
    return FewShotTask(canvas=canvas, style={c: hand[c] for c in HAND_SAMPLES}, content=content)


def tiny(name: str, **overrides):
    """The registered backend ``name`` with its tiny settings (and ``overrides``)."""
    from glyphgen.backends import get_backend

    backend_class = get_backend(name)
    return backend_class(backend_class.config_class.from_dict({**backend_class.tiny_settings, **overrides}))
