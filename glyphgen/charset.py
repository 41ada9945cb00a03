"""Named character sets: ordered code points with production glyph names.

A charset is what a build promises to cover. Its code points are data, one file
per charset in ``glyphgen/charsets/`` (format: ``charsets/README.md``), read
here and by ``fonts/fetch_fonts.py``; its script is the :class:`~glyphgen.scripts.Script`
that lists its name. Glyph names follow the Adobe Glyph List where it has a name
(``A``, ``zero``, ``germandbls``) and ``uniXXXX`` otherwise, which is what ufo2ft
and every renderer expect of production fonts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fontTools.agl import UV2AGL

from .errors import GlyphgenError
from .scripts import LATIN, SCRIPTS, Script

CHARSET_DIR = Path(__file__).resolve().parent / "charsets"

# Characters that are white space by definition: they get an advance, never ink.
BLANK_CODEPOINTS = frozenset({0x0020, 0x00A0})


def glyph_name(codepoint: int) -> str:
    """The production glyph name of ``codepoint`` (AGL name, else ``uniXXXX``)."""
    name = UV2AGL.get(codepoint)
    if name:
        return name
    return f"uni{codepoint:04X}" if codepoint <= 0xFFFF else f"u{codepoint:05X}"


def describe(char: str) -> str:
    """How a character is named in messages: ``U+0041 'A'``."""
    return f"U+{ord(char):04X} {char!r}"


@dataclass(frozen=True)
class Charset:
    """Ordered code points and the script they belong to.

    A charset made in code (tests, benchmarks) is measured and previewed as Latin
    unless it names its script.
    """

    name: str
    codepoints: tuple[int, ...]
    script: Script = LATIN

    @cached_property
    def chars(self) -> tuple[str, ...]:
        return tuple(chr(cp) for cp in self.codepoints)

    @cached_property
    def inked_chars(self) -> tuple[str, ...]:
        """The characters that carry ink (every one but the spaces)."""
        return tuple(chr(cp) for cp in self.codepoints if cp not in BLANK_CODEPOINTS)

    def __contains__(self, char: object) -> bool:
        return isinstance(char, str) and len(char) == 1 and ord(char) in self._members

    def __len__(self) -> int:
        return len(self.codepoints)

    @cached_property
    def _members(self) -> frozenset[int]:
        return frozenset(self.codepoints)


_CODEPOINT = r"U\+([0-9A-Fa-f]{4,6})"
_ENTRY = re.compile(rf"{_CODEPOINT}(?:\.\.{_CODEPOINT})?")


def read_codepoints(name: str, folder: Path = CHARSET_DIR) -> tuple[int, ...]:
    """The code points of ``folder/<name>.txt`` in file order, includes expanded in place."""
    return tuple(_read(name, folder, including=()))


def _read(name: str, folder: Path, including: tuple[str, ...]) -> list[int]:
    path = folder / f"{name}.txt"
    if name in including:
        raise GlyphgenError(f"{path}: includes itself through {' -> '.join(including)}.")
    if not path.is_file():
        raise GlyphgenError(f"no charset data file {path}.")
    codepoints: list[int] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        while words:
            word = words.pop(0)
            if word == "include" and words:
                codepoints += _read(words.pop(0), folder, including + (name,))
            else:
                codepoints += _entry(word, f"{path}:{number}")
    repeated = [cp for cp, count in Counter(codepoints).items() if count > 1]
    if repeated:
        raise GlyphgenError(f"{path}: {len(repeated)} code points are listed more than once, e.g. U+{repeated[0]:04X}.")
    return codepoints


def _entry(word: str, where: str) -> range:
    match = _ENTRY.fullmatch(word)
    if not match:
        raise GlyphgenError(f"{where}: {word!r} is neither U+XXXX, U+XXXX..U+YYYY nor 'include NAME'.")
    first = int(match.group(1), 16)
    last = int(match.group(2) or match.group(1), 16)
    if last < first or last > 0x10FFFF:
        raise GlyphgenError(f"{where}: {word!r} is not an ascending range of Unicode code points.")
    return range(first, last + 1)


def _load_charsets() -> dict[str, Charset]:
    return {name: Charset(name, read_codepoints(name), script) for script in SCRIPTS.values() for name in script.charsets}


CHARSETS: dict[str, Charset] = _load_charsets()


def get_charset(name: str) -> Charset:
    try:
        return CHARSETS[name]
    except KeyError:
        known = ", ".join(sorted(CHARSETS))
        raise GlyphgenError(f"unknown charset {name!r}; choose one of: {known}.") from None
