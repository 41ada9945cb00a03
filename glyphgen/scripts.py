"""What a writing system brings, as data: one :class:`Script` per system (Latin now; Korean, Chinese later).

Algorithm code never names a Latin letter. It asks the script of the charset it
works on::

    script = get_charset("latin").script          # or get_script("latin")
    script.recommended_samples                    # the characters a person should write
    script.reference_font()                       # the bundled font content glyphs come from
    script.vocabulary.index("A")                  # a character's row in an embedding table

A new writing system is a new :class:`Script` value (and its charset data files in
``glyphgen/charsets/``), not a change to ``fontbuild``, ``preview``, ``corpus`` or a backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .errors import GlyphgenError
from .resources import data_dir


@dataclass(frozen=True)
class Vocabulary:
    """The characters a model can name, each with a fixed row in its embedding tables.

    Saved models index their tables by these rows, so a vocabulary only ever grows
    at its end. A character outside it is an error, never a silent collision.
    """

    name: str
    chars: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.chars)

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {char: row for row, char in enumerate(self.chars)}

    def __contains__(self, char: object) -> bool:
        return char in self._rows

    def index(self, chars: Iterable[str]) -> np.ndarray:
        """The rows of ``chars`` (int64); a character outside the vocabulary is a :class:`GlyphgenError`."""
        rows = self._rows
        try:
            return np.array([rows[char] for char in chars], dtype=np.int64)
        except KeyError as missing:
            char = missing.args[0]
            raise GlyphgenError(f"U+{ord(char):04X} {char!r} is outside the {self.name} character vocabulary of this model.") from None


@dataclass(frozen=True)
class VerticalMetrics:
    """Which characters' outlines define a font's vertical metrics (medians or extremes of their ink)."""

    x_height: str  # flat-topped lowercase: the median of their tops is the x-height
    cap_height: str  # flat-topped capitals
    extremes: str  # the ascender is the highest top of these, the descender the lowest bottom


@dataclass(frozen=True)
class CorpusRules:
    """Where a corpus of this script comes from, what a font must cover, and how a useless one is recognised."""

    charset: str  # the charset rendered into the corpus cache
    required: str  # every one of these needs an outline
    fontsource_subset: str  # the npm @fontsource subset holding the script (Google Fonts' name)
    debian_packages: tuple[str, ...]  # Debian fonts-* packages with faces of the script
    # Caps-only fonts would teach that ``a`` is ``A``: the median ink height of these
    # lowercase letters over their capitals above ``caps_only_ratio`` marks one.
    lowercase: str = ""
    uppercase: str = ""
    caps_only_ratio: float = 0.85


@dataclass(frozen=True)
class Script:
    """A writing system: its charsets, what a person writes, and how its fonts are measured and shown."""

    name: str
    charsets: tuple[str, ...]  # the charset names of this script, the default first; each is glyphgen/charsets/<name>.txt
    recommended_samples: str  # what a person should write: every stroke kind the model must learn
    reference_font_file: str  # in the bundled fonts/reference/
    pangrams: tuple[str, ...]  # the preview's sample text
    vocabulary: Vocabulary
    metrics: VerticalMetrics  # fontbuild measures these; a font with none of them is measured on all its ink
    corpus: CorpusRules
    # Kinds of shape a sample set should show, each (name, its characters): a set with no sample of
    # one is told so (glyphgen.samples.check_coverage). A script without them gets only the count check.
    shape_groups: tuple[tuple[str, str], ...] = ()

    def reference_font(self) -> Path:
        """The bundled font whose glyphs are the content (the letterforms) a backend restyles."""
        return data_dir("fonts") / "reference" / self.reference_font_file


_ASCII_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# Debian packages with Latin text faces, handwriting and script first. Held-out designs that
# Debian ships are not listed, and the recipe's name check would refuse them anyway.
_LATIN_DEBIAN_PACKAGES = (
    "fonts-sjfonts", "fonts-breip", "fonts-ecolier-court", "fonts-ecolier-lignes-court", "fonts-tlwg-purisa-ttf",
    "fonts-dustin", "fonts-femkeklaver", "fonts-rufscript", "fonts-staypuft", "fonts-summersby", "fonts-okolaks",
    "fonts-averia-gwf", "fonts-havana", "fonts-isabella", "fonts-joscelyn", "fonts-levien-typoscript", "fonts-bwht",
    "fonts-tomsontalks", "fonts-humor-sans", "fonts-klee", "fonts-seto", "fonts-yusei-magic", "fonts-comic-neue",
    "fonts-urw-base35", "fonts-texgyre", "fonts-cmu", "fonts-freefont-ttf", "fonts-sil-gentiumplus",
    "fonts-sil-charis", "fonts-sil-andika", "fonts-liberation2", "fonts-dejavu-core", "fonts-aenigma",
)  # fmt: skip

LATIN = Script(
    name="latin",
    charsets=("latin", "latin-1"),
    # Round, straight and diagonal strokes, ascenders, descenders and digits (the demo set).
    recommended_samples="ABDEGHMORSabdefghkmnoprsty0125",
    reference_font_file="NotoSans-Regular.ttf",
    pangrams=("The quick brown fox jumps over the lazy dog.", "Sphinx of black quartz, judge my vow! 0123456789"),
    # The 256 Latin-1 code points in order: the shipped models' embedding rows were
    # indexed by code point, and this keeps every row where it was.
    vocabulary=Vocabulary("latin", tuple(chr(cp) for cp in range(0x100))),
    metrics=VerticalMetrics(x_height="xzvwunmr", cap_height="EFHIKLTXZ", extremes=_ASCII_ALPHANUMERIC),
    corpus=CorpusRules(
        charset="latin",
        required=_ASCII_ALPHANUMERIC,
        fontsource_subset="latin",
        debian_packages=_LATIN_DEBIAN_PACKAGES,
        lowercase="acemnorsuvwxz",
        uppercase="ACEMNORSUVWXZ",
    ),
    shape_groups=(
        ("round", "oOcCeQGa"),
        ("straight", "liHILTEFn"),
        ("diagonal", "vwAVWxXkKMNyzZ"),
        ("ascender", "bdhklft"),
        ("descender", "gpyqj"),
        ("capital", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        ("digit", "0123456789"),
    ),
)

SCRIPTS: dict[str, Script] = {script.name: script for script in (LATIN,)}


def get_script(name: str) -> Script:
    try:
        return SCRIPTS[name]
    except KeyError:
        raise GlyphgenError(f"unknown script {name!r}; choose one of: {', '.join(sorted(SCRIPTS))}.") from None
