"""Which glyphs of a charset a model draws, and which the font builder makes from those.

A font covering Europe's languages holds some 400 glyphs, but a designer draws only about a
third of them: the rest are accented letters composed of a letter and a mark (glyphgen.marks),
mark glyphs drawn like their spacing accents, and glyphs made from others' outlines
(glyphgen.derive: ``ı``, ``’``, ``–``, ``Ł``). glyphgen does the same, so that the model draws
only what it was trained to draw (its script's vocabulary) and every ``é`` has the ``e`` and
the ``´`` of the rest of the font. A character the writer wrote is always their own drawing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from .charset import Charset, describe
from .errors import GlyphgenError
from .marks import decomposition


@dataclass(frozen=True)
class GlyphPlan:
    drawn: tuple[str, ...]  # written or drawn by a model: the charset's own, then sources the others need
    derived: tuple[str, ...]  # made from other glyphs' outlines
    composed: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # letter -> base and marks
    marks: tuple[str, ...] = ()  # mark glyphs drawn like their spacing accents


def plan_glyphs(charset: Charset, written: Collection[str] = ()) -> GlyphPlan:
    """How each inked character of ``charset`` is made, given the characters the writer wrote."""
    script = charset.script
    rules, recipes = script.marks, script.recipes
    ways: dict[str, str | None] = {}
    composed: dict[str, tuple[str, tuple[str, ...]]] = {}

    def way(char: str) -> str | None:
        """ "written", "mark", "composed", "drawn", "derived", or None when nothing can make it."""
        if char not in ways:
            ways[char] = None  # a character that needs itself cannot be made
            ways[char] = _way(char)
        return ways[char]

    def _way(char: str) -> str | None:
        if char in written:
            return "written"
        if rules is not None and char in rules.drawings:
            return "mark" if way(rules.drawings[char]) else None
        parts = decomposition(char, rules) if rules is not None else None
        if parts is not None and way(parts[0]) and all(way(mark) == "mark" for mark in parts[1]):
            composed[char] = parts
            return "composed"
        if char in script.vocabulary:
            return "drawn"
        if any(all(way(source) for source in recipe.sources) for recipe in recipes.get(char, ())):
            return "derived"
        return None

    unmade = [char for char in charset.inked_chars if way(char) is None]
    if unmade:
        raise GlyphgenError(
            f"charset {charset.name}: nothing can draw {len(unmade)} of its characters, e.g. {describe(unmade[0])} "
            f"(outside the {script.name} models' characters, with no recipe or composition)."
        )
    chars = list(charset.inked_chars) + [c for c in ways if c not in charset]
    return GlyphPlan(
        drawn=tuple(c for c in chars if ways[c] in ("written", "drawn")),
        derived=tuple(c for c in chars if ways[c] == "derived"),
        composed={c: composed[c] for c in chars if ways[c] == "composed"},
        marks=tuple(c for c in chars if ways[c] == "mark"),
    )
