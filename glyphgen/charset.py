"""Named character sets: ordered code points with production glyph names.

A charset is what a build promises to cover. Glyph names follow the Adobe Glyph
List where it has a name (``A``, ``zero``, ``germandbls``) and ``uniXXXX``
otherwise, which is what ufo2ft and every renderer expect of production fonts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from fontTools.agl import UV2AGL

from .errors import GlyphgenError

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
    name: str
    codepoints: tuple[int, ...]

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


_ASCII = tuple(range(0x20, 0x7F))  # space and the 94 printable ASCII characters
_LATIN1_SUPPLEMENT = tuple(range(0xA0, 0x100))

CHARSETS: dict[str, Charset] = {
    "latin": Charset("latin", _ASCII),
    "latin-1": Charset("latin-1", _ASCII + _LATIN1_SUPPLEMENT),
}


def get_charset(name: str) -> Charset:
    try:
        return CHARSETS[name]
    except KeyError:
        known = ", ".join(sorted(CHARSETS))
        raise GlyphgenError(f"unknown charset {name!r}; choose one of: {known}.") from None
