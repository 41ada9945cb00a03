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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import hangul
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
    # A font whose required glyphs overlap an admitted font's this much is the same design under
    # another name (corpus_recipe.same_design); None: no such check.
    same_design_iou: float | None = None
    # Families that are never trained on: the demo sample set's font, so the demo shows a new hand.
    validation_families: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetRules:
    """What a template sheet's box shows a writer of this script (glyphgen.sheet)."""

    # Light guide lines across each box, each (name, height as a fraction of the box from its top).
    guides: tuple[tuple[str, float], ...]
    advice: str  # one line printed on the sheet: how to sit a character in its box


class Derivation(NamedTuple):
    """A glyph made from the outlines of others (glyphgen.derive): ``op`` applied to ``sources``, with ``settings``."""

    char: str
    op: str  # an operation of glyphgen.derive.OPERATIONS
    sources: str  # the characters it is made from, in the operation's order
    settings: tuple = ()


@dataclass(frozen=True)
class MarkRules:
    """How a script's accented letters are composed of a base letter and mark glyphs (glyphgen.marks).

    A letter is taken apart by Unicode's canonical decomposition (``é`` is ``e`` + U+0301); these
    say what each mark is drawn like and where a letter wants another base or mark than Unicode's.
    """

    drawings: Mapping[str, str]  # each combining mark -> the character whose drawing it takes
    dotless: Mapping[str, str]  # a letter -> its form without a dot, which a mark above sits on (i -> ı)
    # (letters, mark, the mark drawn instead on them): the comma a Latvian ķ takes for Unicode's cedilla.
    alternates: tuple[tuple[str, str, str], ...] = ()
    # The anchor a mark attaches to where its combining class does not say (above: top; below: bottom).
    anchors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Composition:
    """How a compositional script builds a character from parts (Hangul: initial, medial, final jamo and layout).

    ``parts(char)`` gives each part's row, ``sizes`` how many rows each part has;
    ``shape_features(char)`` names what writing ``char`` shows of a hand (a sample set is
    told which it lacks); ``letters(char)`` spells the parts for people.
    """

    names: tuple[str, ...]
    sizes: tuple[int, ...]
    parts: Callable[[str], tuple[int, ...]]
    shape_features: Callable[[str], frozenset[str]]
    letters: Callable[[str], str]
    glossary: Mapping[str, str] = field(default_factory=dict)  # what a feature's value means to a writer (a layout: "vowel to the right")


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
    # Which characters are this script's own; a charset of this script may also hold
    # characters of ``borrows`` (a Korean font's ASCII), which that script's models draw.
    owns: Callable[[str], bool] = lambda char: True
    borrows: str | None = None
    composition: Composition | None = None  # for a script whose characters are built from parts
    sheet: SheetRules = SheetRules(guides=(), advice="Fill about two thirds of the box with each character.")
    # The pairs a font of this script is kerned over, each (first characters, second characters): every
    # first against every second. Only pairs whose shapes leave room are kerned (glyphgen.spacing.kerning).
    kern_pairs: tuple[tuple[str, str], ...] = ()
    # Groups of characters that share one advance width, their ink centred: figures that line up
    # in columns (tabular), math signs that align in formulas.
    shared_widths: tuple[str, ...] = ()
    # Signs set with their middle at half the cap height, where a formula's operators line up with its figures and capitals.
    cap_centred: str = ""
    # Glyphs made from others' outlines (glyphgen.derive), several for one character tried in order.
    derivations: tuple[Derivation, ...] = ()
    marks: MarkRules | None = None  # how accented letters are composed; None: a script without them
    # OpenType's script tags for the scripts a font of this one holds, which its features are registered under.
    opentype_tags: tuple[str, ...] = ()

    @cached_property
    def recipes(self) -> dict[str, tuple[Derivation, ...]]:
        """Each derived character's derivations, in the order they are tried."""
        found: dict[str, tuple[Derivation, ...]] = {}
        for derivation in self.derivations:
            found[derivation.char] = found.get(derivation.char, ()) + (derivation,)
        return found

    def kerned_pairs(self) -> list[tuple[str, str]]:
        return [(a, b) for firsts, seconds in self.kern_pairs for a in firsts for b in seconds]

    def part_rows(self, chars: Iterable[str]) -> np.ndarray:
        """Each character's parts ``(N, P)`` int64, as rows of a model's part tables: 0 for a
        character outside the composition (a Korean font's ASCII), part + 1 otherwise."""
        chars = list(chars)
        if self.composition is None:
            return np.zeros((len(chars), 0), dtype=np.int64)
        rows = [[part + 1 for part in self.composition.parts(c)] if self.owns(c) else [0] * len(self.composition.sizes) for c in chars]
        return np.array(rows, dtype=np.int64).reshape(len(chars), len(self.composition.sizes))

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

# The classic kerning pairs of a Latin text face: capitals with diagonals or overhangs against what
# tucks under them, and punctuation after an open side.
_LATIN_KERN_PAIRS = (
    ("AL", "TVWYvwy\"'"), ("R", "TVWY"), ("K", "Oo-vwy"), ("P", "A.,"), ("F", "A.,ao"),
    ("T", "A.,-:;aeocmnrsuvwxyz"), ("VW", "A.,-:;aeoiu"), ("Y", "A.,-:;aeoiupv"),
    ("rvwyf", ".,"), ("r", "-"), ("k", "oe-"), ("-", "TVWY"), (".", "TVWYvwy"), ("\"'", "A"),
)  # fmt: skip

_LATIN_SHARED_WIDTHS = ("0123456789", "+<=>¬±×÷−")

# Latin glyphs outside the models' vocabulary (Latin-1), made from drawn ones as a designer would.
# A bar across a letter sits at a share of its height, on its strokes there (and a share of its width right of them).
_LATIN_DERIVATIONS = (
    Derivation("ı", "without_top_parts", "i"), Derivation("ı", "as_tall_as", "lx"), Derivation("ȷ", "without_top_parts", "j"),
    Derivation("ȷ", "copy", "j"),  # a j written in one stroke keeps its dot: better than no ĵ
    Derivation("˙", "top_parts", "i"), Derivation("˙", "accent", ".¨", (0.3, "")),
    Derivation("ˆ", "accent", "^¨", (1.0, "")), Derivation("˜", "accent", "~¨", (1.1, "")),
    Derivation("ˇ", "turned", "ˆ"), Derivation("˚", "accent", "°¨", (0.55, "")),
    Derivation("˘", "accent", "o¨", (0.9, "lower")), Derivation("˛", "mirrored", "¸"),
    Derivation("˝", "repeated", "´´", (2,)), Derivation("ˀ", "accent", "?´", (0.8, "largest")),
    Derivation("’", "raised", ",'"), Derivation("‘", "rotated", "’"), Derivation("‚", "copy", ","),
    Derivation("“", "repeated", "‘\"", (2,)), Derivation("”", "repeated", "’\"", (2,)), Derivation("„", "repeated", "‚\"", (2,)),
    Derivation("‹", "piece", "«", ("last",)), Derivation("‹", "sized", "<", (0.6, 0.5)),
    Derivation("›", "piece", "»", ("first",)), Derivation("›", "sized", ">", (0.6, 0.5)),
    Derivation("–", "stretched", "-n", (1.0, False)), Derivation("—", "stretched", "-n", (2.0, False)),
    Derivation("−", "stretched", "-+", (1.0, True)),
    Derivation("•", "enlarged", ".", (2.0, 0.5)), Derivation("…", "spaced_out", ".", (3, 1.2)),
    Derivation("Đ", "copy", "Ð"), Derivation("đ", "crossed", "d-", (0.0, 0.8, 0.6, "width")),
    Derivation("ħ", "crossed", "h-", (0.0, 0.8, 0.6, "width")), Derivation("Ħ", "crossed", "H-", (0.0, 0.75, 1.15, "width")),
    Derivation("Ł", "crossed", "L-", (0.0, 0.42, 0.4, "rising")), Derivation("ł", "crossed", "l-", (0.0, 0.55, 0.35, "rising")),
    Derivation("€", "crossed", "C=", (0.25, 0.5, 0.85, "width")),
    Derivation("Ŧ", "crossed", "T-", (0.0, 0.5, 0.6, "width")), Derivation("ŧ", "crossed", "t-", (0.0, 0.35, 0.8, "width")),
    Derivation("Ĳ", "joined", "IJ", (-1.0, 1.0, False)), Derivation("ĳ", "joined", "ij", (-1.0, 1.0, False)),
    Derivation("Ŀ", "joined", "L·", (-1.0, 1.0, False)), Derivation("ŀ", "joined", "l·", (-1.0, 1.0, False)),
    Derivation("Œ", "joined", "OE", (1.0, 1.0, False)), Derivation("œ", "joined", "oe", (1.0, 1.0, False)),
    Derivation("™", "joined", "TM", (-0.5, 0.45, True)), Derivation("ẞ", "as_tall_as", "ßH"),
)  # fmt: skip

_LATIN_MARKS = MarkRules(
    drawings={
        "\u0300": "`", "\u0301": "´", "\u0302": "ˆ", "\u0303": "˜", "\u0304": "¯", "\u0306": "˘", "\u0307": "˙",
        "\u0308": "¨", "\u030A": "˚", "\u030B": "˝", "\u030C": "ˇ", "\u0312": "‘", "\u0315": "’", "\u0326": ",",
        "\u0327": "¸", "\u0328": "˛", "\u0309": "ˀ", "\u031B": "‘", "\u0323": ".",  # the last three: Vietnamese
    },
    dotless={"i": "ı", "j": "ȷ"},
    alternates=(
        ("ĢĶķĻļŅņŖŗ", "\u0327", "\u0326"),  # Latvian: a comma below, though Unicode says cedilla
        ("ģ", "\u0327", "\u0312"),  # and a turned comma above the g
        ("ďľťĽ", "\u030C", "\u0315"),  # Czech and Slovak: beside an ascender (and an L) the caron is a comma
    ),
    anchors={"\u0328": "ogonek", "\u0315": "topright", "\u031B": "horn"},
)  # fmt: skip

LATIN = Script(
    name="latin",
    charsets=("latin-core", "latin", "latin-1", "latin-vietnamese"),
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
    kern_pairs=_LATIN_KERN_PAIRS,
    shared_widths=_LATIN_SHARED_WIDTHS,
    cap_centred="+<=>±×÷−",
    derivations=_LATIN_DERIVATIONS,
    marks=_LATIN_MARKS,
    opentype_tags=("latn",),
    # Capitals reach about 0.3 of the box from its top; descenders about 0.9.
    sheet=SheetRules(
        guides=(("x-height", 0.47), ("baseline", 0.70)),
        advice="Sit each character on the lower line; lowercase letters like a, n, o reach the upper one.",
    ),
)

_PRINTABLE_ASCII = tuple(chr(cp) for cp in range(0x20, 0x7F))


def _hangul_parts(char: str) -> tuple[int, int, int, int]:
    jamo = hangul.decompose(char)
    return jamo.initial, jamo.medial, jamo.final, jamo.layout


KOREAN = Script(
    name="korean",
    charsets=("korean", "korean-full"),
    # 30 syllables showing every initial, medial and final letter and all six layouts, and
    # 19 of the 28 basic initials beside and above their vowel (hangul.placement_features),
    # chosen greedily over KS X 1001 with a preference for syllables of everyday words.
    recommended_samples="넓복찮왔제푸름형뀌대킷교몌섀쫓유앉늪팥토밖걷뺘괜쐬뛰궤의뭐엌",
    reference_font_file="NotoSansKR-Hangul.ttf",  # Noto Sans KR's syllables under Noto Sans's Latin
    pangrams=("다람쥐 헌 쳇바퀴에 타고파", "키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다", "닭 콩팥 훔친 집사 Hangul 0123"),
    # Printable ASCII, then every modern syllable in code point order: rows never move.
    vocabulary=Vocabulary("korean", _PRINTABLE_ASCII + tuple(chr(hangul.FIRST_SYLLABLE + i) for i in range(hangul.SYLLABLE_COUNT))),
    # A Korean font's Latin sets its x-height and cap height; a syllable reaches above the capitals.
    metrics=VerticalMetrics(x_height=LATIN.metrics.x_height, cap_height=LATIN.metrics.cap_height, extremes=_ASCII_ALPHANUMERIC + "각밟곬흙"),
    corpus=CorpusRules(
        charset="korean",
        # The recommended samples and the pangrams: a font without them is no Korean text face.
        required="넓복찮왔제푸름형뀌대킷교몌섀쫓유앉늪팥토밖걷뺘괜쐬뛰궤의뭐엌다람쥐헌쳇바퀴에타고파",
        fontsource_subset="korean",
        same_design_iou=0.83,  # Debian and npm ship several Korean designs twice, under other names
        validation_families=("Cute Font",),  # the demo sample set's font (datasets/demo-hangul)
        # Debian packages with Hangul text faces. Held-out designs among them (fonts-nanum-extra's
        # Nanum Pen Script and Nanum Brush Script) are refused by their name tables; designs that
        # npm already gave (BM DoHyeon as Do Hyeon, D2Coding ligature as D2Coding) by their outlines.
        # fonts-noto-cjk is left out: its KR faces are npm's noto-sans-kr and noto-serif-kr.
        debian_packages=(
            "fonts-nanum",
            "fonts-nanum-extra",
            "fonts-nanum-eco",
            "fonts-unfonts-core",
            "fonts-unfonts-extra",
            "fonts-baekmuk",
            "fonts-alee",
            "fonts-lexi-gulim",
            "fonts-lexi-saebom",
            "fonts-woowa-bm",
            "fonts-naver-d2coding",
            "fonts-droid-fallback",
            "fonts-wqy-microhei",
            "fonts-wqy-zenhei",
        ),  # fmt: skip
    ),
    owns=hangul.is_syllable,
    borrows="latin",
    composition=Composition(
        names=("initial", "medial", "final", "layout"),
        sizes=(len(hangul.INITIALS), len(hangul.MEDIALS), len(hangul.FINALS) + 1, len(hangul.LAYOUTS)),
        parts=_hangul_parts,
        shape_features=hangul.shape_features,
        letters=lambda char: hangul.decompose(char).letters(),
        glossary=hangul.LAYOUT_MEANINGS,
    ),
    sheet=SheetRules(guides=(), advice="Write each syllable as a square block filling about four fifths of its box."),
    kern_pairs=_LATIN_KERN_PAIRS,  # its ASCII; syllables sit in their square bodies unkerned
    opentype_tags=("hang", "latn"),
    shared_widths=_LATIN_SHARED_WIDTHS,
)

SCRIPTS: dict[str, Script] = {script.name: script for script in (LATIN, KOREAN)}


def get_script(name: str) -> Script:
    try:
        return SCRIPTS[name]
    except KeyError:
        raise GlyphgenError(f"unknown script {name!r}; choose one of: {', '.join(sorted(SCRIPTS))}.") from None
