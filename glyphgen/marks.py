"""Accented letters composed as type designers compose them: a base letter and mark glyphs, placed by anchors.

``é`` is the glyph ``e`` with the combining acute (U+0301) above it, as two components of one
composite glyph, not a third drawing. Each combining mark is a zero-width glyph drawn like its
spacing accent (the script's :class:`~glyphgen.scripts.MarkRules` say which), with an anchor
``_top`` (or ``_bottom``, ...) where it attaches; each letter has anchors ``top``, ``bottom``,
``ogonek`` and ``topright`` measured on its ink. A composite puts each mark's anchor on its base's.
ufo2ft writes the same anchors into the ``mark`` and ``mkmk`` features, so a mark typed after any
letter (``q̈``, a letter the font does not precompose) lands where it would on a composite.

A mark keeps the distance its accent was drawn at above the x-height over any lowercase letter,
and comes a little closer over a capital or an ascender, as designers set them. On 40 validation
fonts of the corpus its centre lands 0.10 x-heights from the designer's own (a spacing accent
centred over the letter: 0.26; ``benchmarks/accents.py``).
"""

from __future__ import annotations

import statistics
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import ufoLib2

from .charset import glyph_name
from .outline import Bounds, Heights, clipped, draw_into_glyph, outline_bounds, pen_width
from .scripts import MarkRules
from .vectorize import Outline

if TYPE_CHECKING:  # glyphgen.plan asks this module how letters decompose
    from .plan import GlyphPlan

# Canonical combining classes (Unicode): attached below (cedilla, ogonek), below, above.
ATTACHED_BELOW = 202
ABOVE = 230
# The band of a glyph's height, at its top or bottom, whose ink places an anchor over the stroke there
# (the top of a slanted l is right of its middle).
BAND = 0.15
# The gap between a letter and its mark, as a share of the x-height: what the hand's accents show, within these.
MIN_GAP, MAX_GAP, DEFAULT_GAP = 0.04, 0.35, 0.12
# A letter reaching above TALL x-heights is a capital or has an ascender; marks over it sit TALL_DROP x-heights
# lower than over the x-height (the bundled fonts' capitals: their marks are 0.05 x-heights closer than the
# lowercase's gap; on the corpus's validation fonts, 0.07: benchmarks/accents.py).
TALL, TALL_DROP = 1.2, 0.05


def anchor_name(mark: str, rules: MarkRules) -> str:
    """The anchor ``mark`` attaches to: the rules' own, else ``top`` for a mark above and ``bottom`` below."""
    return rules.anchors.get(mark) or ("top" if unicodedata.combining(mark) >= ABOVE else "bottom")


def decomposition(char: str, rules: MarkRules) -> tuple[str, tuple[str, ...]] | None:
    """``char`` as a base letter and the marks it composes from (Unicode's canonical decomposition, with the
    rules' dotless bases and alternate marks); None for a character that is not a letter with marks."""
    spelled = unicodedata.normalize("NFD", char)
    if len(spelled) < 2 or not all(unicodedata.combining(mark) for mark in spelled[1:]):
        return None
    base, marks = spelled[0], spelled[1:]
    for letters, mark, instead in rules.alternates:
        if char in letters:
            marks = marks.replace(mark, instead)
    if base in rules.dotless and any(anchor_name(mark, rules) == "top" for mark in marks):
        base = rules.dotless[base]
    return base, tuple(marks)


def accent_gap(rules: MarkRules, outlines: Mapping[str, Outline], x_height: float) -> float:
    """How far above the x-height the hand sets its accents: the median bottom of the drawn accents above."""
    bottoms = []
    for mark, drawing in rules.drawings.items():
        box = outline_bounds(outlines[drawing]) if drawing in outlines else None
        if box is not None and unicodedata.combining(mark) == ABOVE and box.y_min > x_height:
            bottoms.append(box.y_min - x_height)
    gap = statistics.median(bottoms) if bottoms else DEFAULT_GAP * x_height
    return min(max(gap, MIN_GAP * x_height), MAX_GAP * x_height)


def _band(outline: Outline, box: Bounds, top: bool) -> Bounds:
    """The bounds of the ink in the top or bottom BAND of the glyph's height."""
    reach = BAND * box.height
    low, high = (box.y_max - reach, box.y_max + 1) if top else (box.y_min - 1, box.y_min + reach)
    window = Bounds(box.x_min - 1, low, box.x_max + 1, high)
    return outline_bounds(clipped(outline, lambda _: window)) or box


def base_anchors(outline: Outline, x_height: float) -> dict[str, tuple[float, float]]:
    """Where marks attach to a letter, on its ink: above and below the strokes at its top and bottom,
    the ogonek at the right end of its foot, a comma-caron beside its top right, the horn of ``ơ`` at the
    right end of its top. Over a capital (or an
    ascender) a mark comes TALL_DROP of the x-height closer than over a lowercase letter, as designers set it."""
    box = outline_bounds(outline)
    if box is None:
        return {}
    top, bottom = _band(outline, box, top=True), _band(outline, box, top=False)
    drop = TALL_DROP * x_height if box.y_max > TALL * x_height else 0.0
    return {
        "top": (top.centre[0], box.y_max - drop),
        "bottom": (bottom.centre[0], box.y_min),
        "ogonek": (bottom.x_max, box.y_min),
        "topright": (box.x_max, box.y_max),
        "horn": (top.x_max, box.y_max),
    }


def mark_anchors(mark: str, drawing: Outline, rules: MarkRules, gap: float, x_height: float) -> dict[str, tuple[float, float]]:
    """A mark's attaching anchor (``_top``, ...) and, for marks that others stack on, its own (``top``, ...).

    A mark above keeps the height its accent was drawn at over the x-height (where a designer
    draws a spacing accent, and the model imitates one), at least MIN_GAP clear of it; ``gap``,
    the hand's usual one, spaces the marks drawn from other glyphs (a comma below)."""
    box = outline_bounds(drawing)
    name, (x, _) = anchor_name(mark, rules), box.centre
    overlap = pen_width(drawing) / 2  # an attached mark grows out of its letter's stroke
    if name == "top":
        own = max(box.y_min - x_height, MIN_GAP * x_height)
        # Over the letter goes the middle of the mark, pulled halfway to its foot: an acute leans right of the
        # letter's middle as designers set it (on 12 corpus fonts, 0.095 x-heights from theirs; the ink's middle: 0.110).
        x = (x + _band(drawing, box, top=False).centre[0]) / 2
        return {"_top": (x, box.y_min - own), "top": (x, box.y_max + own)}
    if name == "topright":
        return {"_topright": (box.x_min - gap, box.y_max)}
    if name == "horn":  # it grows from the letter's top right, from the foot of its stroke
        return {"_horn": (_band(drawing, box, top=False).x_min + overlap, box.y_min + overlap)}
    if name == "ogonek":
        return {"_ogonek": (_band(drawing, box, top=True).x_max, box.y_max - overlap)}
    if unicodedata.combining(mark) == ATTACHED_BELOW:
        return {"_bottom": (_band(drawing, box, top=True).centre[0], box.y_max - overlap), "bottom": (x, box.y_min - gap)}
    return {"_bottom": (x, box.y_max + gap), "bottom": (x, box.y_min - gap)}


def add_mark_glyphs(ufo: ufoLib2.Font, marks: Iterable[str], outlines: Mapping[str, Outline], rules: MarkRules, heights: Heights) -> None:
    """Fill the zero-width glyph of each mark (made where the font lacks it) with its spacing accent's drawing,
    moved so that it attaches at x = 0, and its anchors."""
    gap = accent_gap(rules, outlines, heights.x_height)
    for mark in marks:
        drawing = outlines[rules.drawings[mark]]
        anchors = mark_anchors(mark, drawing, rules, gap, heights.x_height)
        dx = -anchors["_" + anchor_name(mark, rules)][0]
        name = glyph_name(ord(mark))
        glyph = ufo[name] if name in ufo else ufo.newGlyph(name)
        glyph.unicodes, glyph.width = [ord(mark)], 0
        draw_into_glyph(drawing, glyph, dx)
        for anchor, (x, y) in anchors.items():
            glyph.appendAnchor({"name": anchor, "x": round(x + dx), "y": round(y)})


def add_composite(ufo: ufoLib2.Font, char: str, base: str, marks: tuple[str, ...], rules: MarkRules) -> None:
    """Fill ``char``'s glyph with its base and marks as components, each mark's anchor on the last anchor of its name
    (the base's, or the mark's below it for a stacked one). Its advance is the base's, widened where a mark
    reaches out beside the letter (the comma-caron of ``ď``) by the base's own right bearing."""
    base_glyph = ufo[glyph_name(ord(base))]
    name = glyph_name(ord(char))
    glyph = ufo[name] if name in ufo else ufo.newGlyph(name)
    glyph.unicodes = [ord(char)]
    glyph.components.append(ufoLib2.objects.Component(base_glyph.name))
    reached = {anchor.name: (anchor.x, anchor.y) for anchor in base_glyph.anchors}
    right = base_glyph.getBounds(ufo.layers.defaultLayer).xMax if base_glyph.contours else 0
    base_right_bearing = base_glyph.width - right
    ink_right = right
    for mark in marks:
        mark_glyph = ufo[glyph_name(ord(mark))]
        attach = anchor_name(mark, rules)
        own = {anchor.name: (anchor.x, anchor.y) for anchor in mark_glyph.anchors}
        x, y = reached[attach][0] - own["_" + attach][0], reached[attach][1] - own["_" + attach][1]
        glyph.components.append(ufoLib2.objects.Component(mark_glyph.name, transformation=(1, 0, 0, 1, round(x), round(y))))
        if attach in own:  # the next mark of this name stacks on this one
            reached[attach] = (own[attach][0] + x, own[attach][1] + y)
        bounds = mark_glyph.getBounds(ufo.layers.defaultLayer)
        if bounds is not None:
            ink_right = max(ink_right, bounds.xMax + x)
    glyph.width = round(max(base_glyph.width, ink_right + base_right_bearing))


def compose(ufo: ufoLib2.Font, plan: GlyphPlan, outlines: Mapping[str, Outline], origins: Mapping[str, float], rules: MarkRules, heights: Heights) -> list[str]:
    """Fill the plan's mark glyphs and composites into ``ufo`` and give every letter drawn at ``origins`` (its x shift) its
    anchors; set the glyphs' classes, and the ``ccmp`` that drops the dot of an i under a mark. Returns the names of
    the glyphs it added (the marks the charset does not list)."""
    added = [glyph_name(ord(mark)) for mark in plan.marks if glyph_name(ord(mark)) not in ufo]
    add_mark_glyphs(ufo, plan.marks, outlines, rules, heights)
    letters = [char for char in origins if unicodedata.category(char).startswith("L")]
    for char in letters:
        glyph = ufo[glyph_name(ord(char))]
        for name, (x, y) in base_anchors(outlines[char], heights.x_height).items():
            glyph.appendAnchor({"name": name, "x": round(x + origins[char]), "y": round(y)})
    for char, (base, marks) in plan.composed.items():
        add_composite(ufo, char, base, marks, rules)
    categories = {glyph_name(ord(char)): "base" for char in [*letters, *plan.composed]}
    categories.update({glyph_name(ord(mark)): "mark" for mark in plan.marks})
    ufo.lib["public.openTypeCategories"] = categories
    ufo.features.text += _soft_dotted(ufo, plan.marks, rules)
    return added


def register_features(ufo: ufoLib2.Font, opentype_tags: Iterable[str]) -> None:
    """Declare the scripts the font's features serve: without it ufo2ft files features of its own
    (``ccmp``) and some of those it writes (``mark``) under the default script alone, and a shaper
    given text of a known script (``latn``) finds no mark positioning."""
    systems = "".join(f"languagesystem {tag} dflt;\n" for tag in ("DFLT", *opentype_tags))
    ufo.features.text = systems + ufo.features.text


def _soft_dotted(ufo: ufoLib2.Font, marks: Iterable[str], rules: MarkRules) -> str:
    """A ``ccmp`` feature putting the dotless form of an ``i`` or ``j`` before a mark above, as composites do:
    typed ``i`` + U+0301 shows one accent, not an accent over a dot."""
    above = [glyph_name(ord(mark)) for mark in marks if anchor_name(mark, rules) == "top"]
    pairs = [(glyph_name(ord(dotted)), glyph_name(ord(dotless))) for dotted, dotless in rules.dotless.items()]
    pairs = [(dotted, dotless) for dotted, dotless in pairs if dotted in ufo and dotless in ufo]
    if not above or not pairs:
        return ""
    rules_text = "".join(f"    sub {dotted}' @MarksAbove by {dotless};\n" for dotted, dotless in pairs)
    return f"@MarksAbove = [{' '.join(above)}];\nfeature ccmp {{\n{rules_text}}} ccmp;\n"
