"""Assemble traced outlines into a font: UFO (ufoLib2) compiled by ufo2ft.

Order of work, as fontmake does it::

    info = FontInfo(family="Anna Hand")                      # checks the names: bad ones fail here
    ufo, origins = build_ufo(glyphs, charset, info, appearance)  # outlines in canvas-centred units
    binaries = compile_font(ufo)                              # {"ttf": bytes, "otf": bytes, "woff2": bytes}

Outlines arrive in *canvas-centred* font units (x = 0 at the canvas centre, y = 0
on the baseline, y up). Each glyph is shifted so its ink starts at the left side
bearing; ``origins`` records that shift so validation can render the compiled
glyph back exactly where its bitmap was.

Names may be in any script: the name table holds them as UTF-16 (Windows records
only; Mac records could not hold most of them), while the PostScript name, the
CFF table and the file names get an ASCII spelling (:attr:`FontInfo.postscript_name`).
The style flags come from ``appearance``, measured on the ink (:mod:`glyphgen.appearance`),
never from the style's name; head's dates from SOURCE_DATE_EPOCH when it is set.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import math
import os
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import ufoLib2
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables import ttProgram
from ufo2ft import compileOTF, compileTTF
from ufo2ft.outlineCompiler import OutlineOTFCompiler

from .appearance import Appearance
from .charset import BLANK_CODEPOINTS, Charset, glyph_name
from .derive import derive
from .errors import GlyphgenError
from .marks import compose, register_features
from .outline import Heights, draw_into_glyph, draw_outline, glyph_heights, moved, outline_bounds
from .plan import plan_glyphs
from .spacing import class_kerning, kerning, profile, shared_widths, side_bearings
from .vectorize import Outline

UNITS_PER_EM = 1000
# The space is a fraction of the x-height: it scales with the hand (side bearings too: glyphgen.spacing).
SPACE_OF_X_HEIGHT = 0.55
LINE_HEIGHT_EM = 1.2
NO_BREAK_SPACE = 0x00A0
# head.flags bit 3: instructions may depend on ppem being an integer, which a hinted font must say.
HEAD_FLAG_INTEGER_PPEM = 1 << 3
# PUSHW 511, SCANCTRL, PUSHB 4, SCANTYPE: dropout control at every size, smart mode (no stubs).
SMART_DROPOUT_PROGRAM = bytes.fromhex("b801ff85b0048d")

# The options a build names each FontInfo field by, in its one-sentence errors.
OPTION_OF = {
    "family": "--family",
    "style": "--style",
    "version": "--font-version",
    "designer": "--designer",
    "license": "--license",
    "license_url": "--license-url",
}
# The longest text each name may be: the name table stores every string at a 16-bit
# offset, so all of them together must fit in 64 KiB (a license is the longest).
MAX_NAME_CHARS = {"family": 200, "style": 200, "designer": 200, "license": 5000, "license_url": 2000}
# A PostScript name (name ID 6, CFF, the file names) is at most 63 printable ASCII characters.
POSTSCRIPT_NAME_CHARS = 63
POSTSCRIPT_STYLE_CHARS = 31  # the style's share of them, at most: the family keeps the rest
NAME_TAG_CHARS = 6  # hex digits of a name's hash, added where its ASCII form lost characters
# Letters that NFKD does not take apart into an ASCII letter and marks, and their usual ASCII spelling.
ASCII_SPELLINGS = str.maketrans(
    {
        "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "ẞ": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe",
        "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th", "Ħ": "H", "ħ": "h", "ı": "i", "ĸ": "k",
        "Ŋ": "N", "ŋ": "n", "Ŧ": "T", "ŧ": "t", "ƒ": "f",
    }
)  # fmt: skip
# The latest head.created a font can say: 9999-12-31, the last day a date string can hold.
_LATEST_TIMESTAMP = 253402300799


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH (reproducible builds): the seconds since 1970 a font says it was made at, or None when unset."""
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]+", text) or int(text) > _LATEST_TIMESTAMP:
        raise GlyphgenError(f"SOURCE_DATE_EPOCH {text!r}: set it to a whole number of seconds since 1970 (e.g. 1700000000), or unset it.")
    return int(text)


@dataclass(frozen=True)
class FontInfo:
    """What the name table, version and dates say; defaults fill what the user left out.

    Names are checked and NFC-normalised on construction (text may arrive decomposed,
    as macOS file names and some keyboards give it), so a bad one fails before any work.
    ``timestamp`` is head.created and head.modified in seconds since 1970: SOURCE_DATE_EPOCH
    when it is set, so that the same inputs build the same bytes, else the time of the build.
    """

    family: str = "Glyphgen Hand"
    style: str = "Regular"
    version: str = "1.0"
    designer: str | None = None
    license: str | None = None
    license_url: str | None = None
    timestamp: int | None = field(default_factory=source_date_epoch)

    def __post_init__(self) -> None:
        for name in MAX_NAME_CHARS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _checked_name(value, name, required=name in ("family", "style")))
        self.version_numbers()

    def version_numbers(self) -> tuple[int, int]:
        match = re.fullmatch(r"(\d+)(?:\.(\d{1,3}))?", self.version.strip(), flags=re.ASCII)
        if not match:
            raise GlyphgenError(f"{OPTION_OF['version']} {self.version!r}: use a number such as 1.0 or 2.13.")
        # Read as a decimal, as fonts show it: 2.5 is version 2.500, not 2.005.
        return int(match.group(1)), int((match.group(2) or "0").ljust(3, "0"))

    @property
    def postscript_name(self) -> str:
        """``Family-Style`` in ASCII letters and digits: the PostScript name, and the font files' name."""
        style = _postscript_part(self.style, POSTSCRIPT_STYLE_CHARS)
        family = _postscript_part(self.family, POSTSCRIPT_NAME_CHARS - 1 - len(style), fallback="Glyphgen")
        return f"{family}-{style}"

    @property
    def ascii_family(self) -> str:
        """The family as near as ASCII spells it ("Lukasz Hand"), for where only ASCII can be shown."""
        return ascii_text(self.family) or self.postscript_name.partition("-")[0]


def _checked_name(value: str, name: str, required: bool) -> str | None:
    """``value`` NFC-normalised and stripped, or a GlyphgenError naming its option; an empty optional name is None."""
    option = OPTION_OF[name]
    for char in value:  # before stripping, which would silently eat a trailing newline
        category = unicodedata.category(char)
        if category == "Cc":
            raise GlyphgenError(f"{option} {_shown(value)}: a name cannot hold control characters such as U+{ord(char):04X}.")
        if category == "Cs":
            raise GlyphgenError(f"{option} {_shown(value)}: not valid text (U+{ord(char):04X} stands for a byte that is not UTF-8).")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        if required:
            example = '"Anna Hand"' if name == "family" else "Regular"
            raise GlyphgenError(f"{option} {_shown(value)} is empty: give the font a {name}, e.g. {option} {example}.")
        return None
    if len(text) > MAX_NAME_CHARS[name]:
        raise GlyphgenError(f"{option}: {len(text)} characters is too long for a font's name table; keep it to {MAX_NAME_CHARS[name]}.")
    return text


def _shown(value: str, most: int = 40) -> str:
    """``value`` as Python writes it (control characters escaped), cut short for a one-line message."""
    return repr(value) if len(value) <= most else repr(value[:most]) + "..."


def ascii_text(text: str) -> str:
    """``text`` spelled in printable ASCII: accents dropped (NFKD), ``ASCII_SPELLINGS`` applied,
    whatever has no ASCII form left out, spaces collapsed."""
    spelled = unicodedata.normalize("NFKD", text).translate(ASCII_SPELLINGS)
    return " ".join("".join(c for c in spelled if c.isascii() and c.isprintable()).split())


def _postscript_part(text: str, room: int, fallback: str = "") -> str:
    """``text``'s ASCII letters and digits, at most ``room`` of them. Where the ASCII form lost
    a letter, digit or symbol (Hangul, an emoji) or was cut short, a hash of ``text`` follows,
    so that two names never share one PostScript name because ASCII cannot tell them apart."""
    spelled = unicodedata.normalize("NFKD", text).translate(ASCII_SPELLINGS)
    letters = "".join(c for c in spelled if c.isascii() and c.isalnum())
    lost = any(unicodedata.category(c)[0] in "LNS" and not (c.isascii() and c.isalnum()) for c in spelled)  # marks and punctuation go unmissed
    if letters and not lost and len(letters) <= room:
        return letters
    tag = hashlib.sha1(text.encode("utf-8")).hexdigest()[:NAME_TAG_CHARS]
    return (letters or fallback)[: room - len(tag)] + tag


def build_ufo(glyphs: Mapping[str, Outline], charset: Charset, info: FontInfo, appearance: Appearance = Appearance()) -> tuple[ufoLib2.Font, dict[str, float]]:
    """A UFO with one glyph per charset member, ``.notdef`` and ``space`` first.

    ``glyphs`` maps characters to their outlines in canvas-centred units: every character of
    the charset that is drawn (:func:`glyphgen.plan.plan_glyphs`), and the sources of those made from
    others. The rest are made here: derived from others' outlines (glyphgen.derive), composed of a
    letter and marks (glyphgen.marks). ``appearance`` is the weight and slant measured on them
    (:mod:`glyphgen.appearance`), which the style flags state. Returns the UFO and, per glyph name,
    the x shift applied to its outline.
    """
    script = charset.script
    plan = plan_glyphs(charset, written=glyphs.keys())
    heights = glyph_heights({c: o for c, o in glyphs.items() if c in charset}, script.metrics)
    glyphs = {**glyphs, **derive({c: script.recipes[c] for c in plan.derived}, glyphs, heights)}
    centred = {char: _centred_at(glyphs[char], heights.cap_height / 2) for char in script.cap_centred if char in glyphs}
    glyphs |= centred
    # The font's characters: the charset's, and letters its composites are built on that it lacks (the ı of í).
    chars = list(dict.fromkeys([*charset.chars, *(base for base, _ in plan.composed.values())]))
    outlined = [c for c in chars if c not in plan.composed and c not in plan.marks and ord(c) not in BLANK_CODEPOINTS]
    bounds = {char: outline_bounds(glyphs[char]) if char in glyphs else None for char in outlined}
    missing = [c for c in outlined if bounds[c] is None]
    if missing:
        raise GlyphgenError(f"no outline for {len(missing)} characters of the charset, e.g. {missing[0]!r}.")

    space_width = round(SPACE_OF_X_HEIGHT * heights.x_height)
    drawers = {char: (lambda pen, outline=glyphs[char]: draw_outline(outline, pen)) for char in outlined}
    sides = side_bearings(drawers, {char: bounds[char].y_max for char in drawers}, heights.x_height, heights.cap_height)
    ink_widths = {char: bounds[char].x_max - bounds[char].x_min for char in drawers}
    sides = shared_widths(sides, ink_widths, script.shared_widths, heights.x_height)

    ufo = ufoLib2.Font()
    order = [".notdef"]
    _draw_notdef(ufo, heights.cap_height)
    origins: dict[str, float] = {}
    for char in chars:
        name = glyph_name(ord(char))
        glyph = ufo.newGlyph(name)  # a composite or a mark is filled in below
        glyph.unicodes = [ord(char)]
        order.append(name)
        if ord(char) in BLANK_CODEPOINTS:
            glyph.width = space_width
        elif char in drawers:
            box, side = bounds[char], sides[char]
            dx = round(side.left) - box.x_min
            draw_into_glyph(glyphs[char], glyph, dx)
            glyph.width = round(box.x_max - box.x_min + side.left + side.right)  # a shared width stays shared
            if char not in centred:  # a glyph moved up or down no longer renders where its bitmap was
                origins[name] = dx
    if plan.marks or plan.composed:
        order += compose(ufo, plan, glyphs, {c: round(sides[c].left) - bounds[c].x_min for c in drawers}, script.marks, heights)
    _kern(ufo, charset, heights, plan.composed)
    if NO_BREAK_SPACE not in charset.codepoints:
        # Every font has the space's no-break twin: text holds "10 km" together with it, and
        # Google Fonts' checks fail a font without it.
        glyph = ufo.newGlyph(glyph_name(NO_BREAK_SPACE))
        glyph.unicodes, glyph.width = [NO_BREAK_SPACE], space_width
        order.append(glyph.name)
    ufo.glyphOrder = order
    register_features(ufo, script.opentype_tags)

    all_bounds = [outline_bounds(glyphs[char], control=True) for char in drawers]
    # The line reaches over every letter, accented capitals too (Google Fonts: the typo ascender clears Agrave).
    letters = [box for char in chars if unicodedata.category(char)[0] == "L" and (box := ufo[glyph_name(ord(char))].getBounds(ufo.layers.defaultLayer))]
    ascender = max([heights.ascender, *(math.ceil(box.yMax) for box in letters)])
    descender = min([heights.descender, *(math.floor(box.yMin) for box in letters)])
    _fill_info(ufo, info, ascender, descender, round(heights.cap_height), round(heights.x_height), all_bounds)
    _fill_style(ufo, info, appearance)
    return ufo, origins


def _kern(ufo: ufoLib2.Font, charset: Charset, heights: Heights, composed: Mapping[str, tuple[str, tuple[str, ...]]]) -> None:
    """Fill the UFO's kerning: the script's pairs that the glyphs' shapes, as spaced, leave room to close
    (glyphgen.spacing.kerning), by classes: each listed letter kerns with the accented letters built on it,
    less those whose marks reach out on the kerned side (the comma of ``ď``), and an accented letter whose
    mark changes the room it leaves (``Tě``: the caron meets the T's bar) is an exception to its class."""
    built_on: dict[str, list[str]] = {}
    for char, (base, _) in composed.items():
        built_on.setdefault(base, []).append(char)

    def members(char: str, right_side: bool) -> list[str]:
        return [char] + [c for c in built_on.get(char, []) if not _reaches_out(ufo, c, char, right_side)]

    present = {chr(cp) for cp in charset.codepoints} | set(composed)
    listed = [(a, b) for a, b in charset.script.kerned_pairs() if a in present and b in present]
    firsts = {a: members(a, right_side=True) for a, _ in listed}
    seconds = {b: members(b, right_side=False) for _, b in listed}
    pairs = [(x, y) for a, b in listed for x in firsts[a] for y in seconds[b]]
    profiles, advances = {}, {}
    for char in {char for pair in pairs for char in pair}:
        name = glyph_name(ord(char))
        found = profile(_drawing(ufo, name), heights.descender - heights.x_height, heights.ascender + heights.x_height)
        if found is not None:
            profiles[char], advances[char] = found, ufo[name].width
    kerned = kerning(profiles, advances, heights.x_height, pairs)
    named = {(glyph_name(ord(a)), glyph_name(ord(b))): value for (a, b), value in kerned.items()}

    def names(classes: Mapping[str, list[str]]) -> dict[str, list[str]]:
        return {glyph_name(ord(leader)): [glyph_name(ord(c)) for c in chars] for leader, chars in classes.items()}

    groups, values = class_kerning(named, names(firsts), names(seconds))
    ufo.groups.update(groups)
    ufo.kerning.update(values)


def _reaches_out(ufo: ufoLib2.Font, char: str, base: str, right_side: bool) -> bool:
    """Whether ``char``'s marks reach beyond its base letter's ink on one side (by more than a unit or two)."""
    layer = ufo.layers.defaultLayer
    own, base_box = ufo[glyph_name(ord(char))].getBounds(layer), ufo[glyph_name(ord(base))].getBounds(layer)
    if own is None or base_box is None:
        return False
    return own.xMax > base_box.xMax + 2 if right_side else own.xMin < base_box.xMin - 2


def _drawing(ufo: ufoLib2.Font, name: str):
    """A function drawing the UFO glyph ``name`` into a pen, its components drawn out."""

    def draw(pen) -> None:
        recorder = DecomposingRecordingPen(ufo)
        ufo[name].draw(recorder)
        recorder.replay(pen)

    return draw


def _draw_notdef(ufo: ufoLib2.Font, cap_height: float) -> None:
    """The conventional box with a counter, as wide as half the em."""
    glyph = ufo.newGlyph(".notdef")
    glyph.width = UNITS_PER_EM // 2
    top, margin, wall = round(cap_height), 50, 50
    pen = glyph.getPen()
    for (x0, y0, x1, y1), outer in (((margin, 0, 500 - margin, top), True), ((margin + wall, wall, 500 - margin - wall, top - wall), False)):
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]  # counter-clockwise: PostScript outer
        if not outer:
            corners.reverse()
        pen.moveTo(corners[0])
        for corner in corners[1:]:
            pen.lineTo(corner)
        pen.closePath()


def _fill_info(ufo, info: FontInfo, ascender, descender, cap_height, x_height, all_bounds) -> None:
    i = ufo.info
    i.familyName, i.styleName = info.family, info.style
    i.versionMajor, i.versionMinor = info.version_numbers()
    i.unitsPerEm = UNITS_PER_EM
    i.ascender, i.descender = ascender, descender
    i.capHeight, i.xHeight = cap_height, x_height
    i.postscriptFontName = info.postscript_name
    if info.designer:
        i.openTypeNameDesigner = info.designer
        i.copyright = f"Copyright (c) {info.designer}"
    if info.license:
        i.openTypeNameLicense = info.license
    if info.license_url:
        i.openTypeNameLicenseURL = info.license_url
    i.openTypeNameDescription = "Made with glyphgen from handwritten samples."
    # ufo2ft's defaults would mark the font preview-only (fsType 4) and add a line
    # gap to hhea but not OS/2 typo; we want installable and consistent metrics.
    i.openTypeOS2Type = []
    line_ascender, line_descender = line_metrics(ascender, descender, cap_height)
    i.openTypeOS2TypoAscender, i.openTypeOS2TypoDescender, i.openTypeOS2TypoLineGap = line_ascender, line_descender, 0
    i.openTypeHheaAscender, i.openTypeHheaDescender, i.openTypeHheaLineGap = line_ascender, line_descender, 0
    i.openTypeOS2Selection = [7]  # USE_TYPO_METRICS: the typo values above are the truth
    # Windows clips at usWin*: take them from the real extremes (accents included).
    i.openTypeOS2WinAscent = max(ascender, math.ceil(max(b.y_max for b in all_bounds)))
    i.openTypeOS2WinDescent = max(-descender, -math.floor(min(b.y_min for b in all_bounds)))
    # Always set: ufo2ft would read SOURCE_DATE_EPOCH itself, and fail on a bad one.
    created = info.timestamp if info.timestamp is not None else int(time.time())
    i.openTypeHeadCreated = datetime.datetime.fromtimestamp(created, datetime.UTC).strftime("%Y/%m/%d %H:%M:%S")


def _centred_at(outline: Outline, height: float) -> Outline:
    box = outline_bounds(outline)
    return moved(outline, 0, height - (box.y_min + box.y_max) / 2)


def line_metrics(ascender: int, descender: int, cap_height: int) -> tuple[int, int]:
    """The line's ascender and descender, as Google Fonts' vertical metrics guidance has them: no line gap, the
    line LINE_HEIGHT_EM high (more if the ink needs it) and reaching as far above the capitals as below the
    baseline, so a line of capitals sits in the middle of its line box (a button's label, a heading), while the
    tallest ascender and the deepest descender stay inside it."""
    height = max(round(LINE_HEIGHT_EM * UNITS_PER_EM), ascender - descender)
    top = max(ascender, round((height + cap_height) / 2))
    return top, min(descender, top - height)


def _fill_style(ufo, info: FontInfo, appearance: Appearance) -> None:
    """Weight class, italic angle and style linking from what was measured, not from the style's name.

    The linking name (name ID 2, the fsSelection and macStyle bits) is the measured
    one. A style whose name says otherwise ("Bold" written with a fine pen, "Light")
    links as its own family, ``Family Style``, so it never takes the place of the
    family's true Regular or Bold in a menu; the typographic names keep the user's words.
    """
    i = ufo.info
    i.openTypeOS2WeightClass = appearance.weight_class
    i.italicAngle = appearance.italic_angle  # post and CFF; ufo2ft slopes the caret by it
    i.styleMapStyleName = appearance.style_link
    named_as_measured = " ".join(info.style.casefold().split()) == appearance.style_link
    i.styleMapFamilyName = info.family if named_as_measured else f"{info.family} {info.style}"


def compile_font(ufo: ufoLib2.Font) -> dict[str, bytes]:
    """TTF (quadratic), OTF (CFF) and WOFF2, overlaps removed with skia-pathops.

    head.modified is head.created (the font is made in one go), so fonts built
    from the same inputs at the same SOURCE_DATE_EPOCH are the same bytes.
    """
    # Our names are already production names (AGL or uniXXXX); ufo2ft would rename
    # even AGL ones to uniXXXX.
    options = dict(removeOverlaps=True, overlapsBackend="pathops", useProductionNames=False)
    ttf = compileTTF(ufo, **options)
    otf = compileOTF(ufo, outlineCompilerClass=_AsciiCFFCompiler, **options)
    ttf_bytes, otf_bytes = _with_win_metrics_covering_ink(_to_bytes(ttf), _to_bytes(otf))
    ttf_bytes = _autohinted(ttf_bytes)
    woff2 = TTFont(io.BytesIO(ttf_bytes), recalcTimestamp=False)
    woff2.flavor = "woff2"
    return {"ttf": ttf_bytes, "otf": otf_bytes, "woff2": _to_bytes(woff2)}


def _with_win_metrics_covering_ink(*binaries: bytes) -> list[bytes]:
    """The fonts (one font in several formats) with usWinAscent and usWinDescent reaching the extremes of
    every format's compiled glyphs (head's bounding boxes), the same in each.

    The UFO's values come from the traced outlines; conversion to quadratic curves and overlap
    removal can move an extreme a few units, and Windows clips whatever lies outside them.
    """
    fonts = [TTFont(io.BytesIO(binary), recalcTimestamp=False) for binary in binaries]
    ascent = max(max(font["OS/2"].usWinAscent, font["head"].yMax) for font in fonts)
    descent = max(max(font["OS/2"].usWinDescent, -font["head"].yMin) for font in fonts)
    covered = []
    for binary, font in zip(binaries, fonts):
        os2 = font["OS/2"]
        if (os2.usWinAscent, os2.usWinDescent) == (ascent, descent):
            covered.append(binary)
        else:
            os2.usWinAscent, os2.usWinDescent = ascent, descent
            covered.append(_to_bytes(font))
    return covered


def _autohinted(ttf: bytes) -> bytes:
    """The TTF hinted by ttfautohint: stems and heights snap to the pixel grid at text sizes, and its
    ``prep`` turns on smart dropout control, so thin strokes do not break up at 12 px.

    ttfautohint hints the scripts it knows (Latin among them) from their standard letters (``o``
    for Latin); a font without them (digits alone, Hangul alone) is hinted as a symbol font, and
    one ttfautohint cannot take gets the dropout control alone. ``no_info`` keeps its version out
    of the name table, so the same inputs still give the same bytes.
    """
    from ttfautohint import ttfautohint
    from ttfautohint.errors import TAError

    try:
        hinted = ttfautohint(in_buffer=ttf, no_info=True)
    except TAError:
        try:
            hinted = ttfautohint(in_buffer=ttf, no_info=True, symbol=True)
        except TAError:
            hinted = _with_smart_dropout(ttf)
    font = TTFont(io.BytesIO(hinted), recalcTimestamp=False)
    font["head"].flags |= HEAD_FLAG_INTEGER_PPEM
    return _to_bytes(font)


def _with_smart_dropout(ttf: bytes) -> bytes:
    """The TTF with only a ``prep`` program that turns on smart dropout control (what Google Fonts asks of an unhinted font)."""
    font = TTFont(io.BytesIO(ttf), recalcTimestamp=False)
    font["prep"] = newTable("prep")
    font["prep"].program = ttProgram.Program()
    font["prep"].program.fromBytecode(SMART_DROPOUT_PROGRAM)
    return _to_bytes(font)


class _AsciiCFFCompiler(OutlineOTFCompiler):
    """ufo2ft's CFF table with its names in ASCII.

    CFF strings are Latin-1 at most, and ufo2ft copies the family and full name
    there as they are, which fails to save on any other name. The name table keeps
    the real ones; these are what a PostScript driver shows.
    """

    def setupTable_CFF(self):
        super().setupTable_CFF()
        cff = self.otf["CFF "].cff
        top = cff.topDictIndex[0]
        postscript_name = cff.fontNames[0]
        top.FamilyName = ascii_text(top.FamilyName or "") or postscript_name.split("-")[0]
        top.FullName = ascii_text(top.FullName or "") or postscript_name
        top.Copyright = ascii_text(self.ufo.info.copyright or "")  # ufo2ft's own ASCII form has "?" for "Ł"


def _to_bytes(font: TTFont) -> bytes:
    head = font["head"]
    head.modified = head.created
    font.recalcTimestamp = False  # fontTools would stamp the time of saving (or SOURCE_DATE_EPOCH, failing on a bad one)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
