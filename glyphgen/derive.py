"""Glyphs made from the outlines of others, as a type designer makes them: ``ı`` is ``i`` without its dot,
``ˇ`` a turned ``ˆ``, ``’`` a raised comma, ``Ł`` an ``L`` crossed by a rising bar.

What is made from what is data, a script's :attr:`~glyphgen.scripts.Script.derivations`: each a
:class:`~glyphgen.scripts.Derivation` naming one of the operations below, its source characters
and its settings. A character may have several, tried in order: the first whose sources exist and
that finds what it looks for (the dot of an ``i`` written in one stroke has none) makes it.

All coordinates are canvas-centred font units (y up, the baseline at 0), as traced; the font
builder spaces every glyph afterwards, so an operation only has to get the shape and its height right.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .outline import Bounds, Heights, clipped, moved, outline_bounds, parts, pen_width, scaled, turned_by
from .scripts import Derivation
from .vectorize import Outline

# Half the height of the row of a glyph whose ink a bar is centred on, in font units.
STROKE_ROW = 10.0
RISE_DEGREES = 35.0  # how steeply the stroke across an Ł rises

Operation = Callable[..., Outline | None]
OPERATIONS: dict[str, Operation] = {}
# The operations that look for something a drawing may lack (a separate dot, a second chevron): a character's
# last derivation is never one of them, so that any hand gets every glyph.
MAY_FIND_NOTHING = frozenset({"without_top_parts", "top_parts", "piece"})


def operation(fn: Operation) -> Operation:
    OPERATIONS[fn.__name__] = fn
    return fn


def derive(recipes: Mapping[str, tuple[Derivation, ...]], outlines: Mapping[str, Outline], heights: Heights) -> dict[str, Outline]:
    """The outline of each character ``recipes`` names, made from ``outlines`` and from one another.

    A character whose every recipe lacks a source or finds nothing is left out.
    """
    made: dict[str, Outline] = {}

    def outline_of(char: str, making: tuple[str, ...] = ()) -> Outline | None:
        if char in outlines:
            return outlines[char]
        if char in made:
            return made[char]
        if char not in recipes or char in making:
            return None
        for recipe in recipes[char]:
            sources = [outline_of(source, making + (char,)) for source in recipe.sources]
            if all(sources):
                result = OPERATIONS[recipe.op](*sources, *recipe.settings, heights=heights)
                if result:
                    made[char] = result
                    return result
        return None

    for char in recipes:
        outline_of(char)
    return made


def _bounds(outline: Outline) -> Bounds:
    box = outline_bounds(outline)
    if box is None:
        raise ValueError("an outline without ink")
    return box


@operation
def copy(source: Outline, *, heights: Heights) -> Outline:
    """The same drawing (``Đ`` is ``Ð``; ``‚`` is the comma)."""
    return source


def _largest_and_above(source: Outline) -> tuple[list[Outline], list[Outline]]:
    """The source's pieces of ink, split into those reaching no higher than its largest piece's top, and those above it."""
    pieces = parts(source)
    main = max(pieces, key=lambda piece: _bounds(piece).height * _bounds(piece).width)
    top = _bounds(main).y_max
    above = [piece for piece in pieces if _bounds(piece).y_min >= top]
    return [piece for piece in pieces if piece not in above], above


@operation
def without_top_parts(source: Outline, *, heights: Heights) -> Outline | None:
    """The glyph without the ink above its largest piece (``ı`` from ``i``); None when there is none."""
    kept, above = _largest_and_above(source)
    return [contour for piece in kept for contour in piece] if above else None


@operation
def top_parts(source: Outline, *, heights: Heights) -> Outline | None:
    """Only the ink above the glyph's largest piece (the dot of ``i``, for ``˙``); None when there is none."""
    _, above = _largest_and_above(source)
    return [contour for piece in above for contour in piece] or None


@operation
def turned(source: Outline, *, heights: Heights) -> Outline:
    """Upside down in place (``ˇ`` from ``ˆ``)."""
    return scaled(source, 1, -1, about=_bounds(source).centre)


@operation
def mirrored(source: Outline, *, heights: Heights) -> Outline:
    """Left for right in place (``˛`` from ``¸``)."""
    return scaled(source, -1, 1, about=_bounds(source).centre)


@operation
def rotated(source: Outline, *, heights: Heights) -> Outline:
    """Turned half round in place (``‘`` from ``’``)."""
    return scaled(source, -1, -1, about=_bounds(source).centre)


@operation
def accent(source: Outline, like: Outline, share: float, cut: str, *, heights: Heights) -> Outline:
    """``source`` (its lower half when ``cut`` is "lower", its largest piece when "largest") made ``share`` as wide as the accent ``like`` and centred on it
    (``ˆ`` from ``^`` on ``¨``, where designers put it;
    the hook above, ``ˀ``, from the hook of ``?``: on 38 corpus fonts the median circumflex is as wide as the
    dieresis, its middle at the same height; ``˘`` from the lower half of ``o``)."""
    if cut == "lower":
        source = clipped(source, lambda b: Bounds(b.x_min - 1, b.y_min - 1, b.x_max + 1, b.centre[1]))
    elif cut == "largest":
        source = max(parts(source), key=lambda piece: _bounds(piece).width * _bounds(piece).height)
    box, target = _bounds(source), _bounds(like)
    factor = share * target.width / box.width
    shape = scaled(source, factor, about=(box.x_min, box.y_min))
    placed = _bounds(shape)
    return moved(shape, target.centre[0] - placed.centre[0], target.centre[1] - placed.centre[1])


@operation
def raised(source: Outline, like: Outline, *, heights: Heights) -> Outline:
    """``source`` moved up to the top of ``like`` (``’`` is the comma at the apostrophe's height)."""
    return moved(source, 0, _bounds(like).y_max - _bounds(source).y_max)


@operation
def stretched(source: Outline, like: Outline, share: float, centred: bool, *, heights: Heights) -> Outline:
    """``source`` widened to ``share`` of ``like``'s width, its pen kept (``–`` from ``-`` and ``n``; ``−`` as wide as ``+``),
    and with ``centred`` set at ``like``'s middle height."""
    box, target = _bounds(source), _bounds(like)
    shape = scaled(source, share * target.width / box.width, 1, about=box.centre)
    return moved(shape, 0, target.centre[1] - box.centre[1]) if centred else shape


@operation
def repeated(source: Outline, like: Outline, count: int, *, heights: Heights) -> Outline:
    """``count`` copies side by side, as far apart as the pieces of ``like`` are (``“`` from ``‘`` as ``"`` spaces its strokes)."""
    pieces = sorted(_bounds(piece).centre[0] for piece in parts(like))
    step = pieces[1] - pieces[0] if len(pieces) > 1 else 1.5 * _bounds(source).width
    step = max(step, 1.1 * _bounds(source).width)  # copies never run into each other
    return [contour for k in range(count) for contour in moved(source, k * step)]


@operation
def spaced_out(source: Outline, count: int, gap: float, *, heights: Heights) -> Outline:
    """``count`` copies in a row, ``gap`` of their width apart (``…`` from ``.``)."""
    step = (1 + gap) * _bounds(source).width
    return [contour for k in range(count) for contour in moved(source, k * step)]


@operation
def piece(source: Outline, which: str, *, heights: Heights) -> Outline | None:
    """The leftmost or rightmost piece of ink (``‹`` from ``«``); None when the glyph is one piece."""
    pieces = sorted(parts(source), key=lambda p: _bounds(p).centre[0])
    if len(pieces) < 2:
        return None
    return pieces[0] if which == "first" else pieces[-1]


@operation
def enlarged(source: Outline, factor: float, middle: float, *, heights: Heights) -> Outline:
    """``source`` ``factor`` times larger, its middle at ``middle`` of the x-height (``•`` from ``.``)."""
    box = _bounds(source)
    shape = scaled(source, factor, about=box.centre)
    return moved(shape, 0, middle * heights.x_height - box.centre[1])


@operation
def sized(source: Outline, height: float, middle: float, *, heights: Heights) -> Outline:
    """``source`` scaled to ``height`` of the x-height, its middle at ``middle`` of it (``›`` from ``>``)."""
    box = _bounds(source)
    shape = scaled(source, height * heights.x_height / box.height, about=box.centre)
    return moved(shape, 0, middle * heights.x_height - box.centre[1])


@operation
def joined(first: Outline, second: Outline, overlap: float, factor: float, at_caps: bool, *, heights: Heights) -> Outline:
    """Two drawings side by side, overlapping by ``overlap`` pen widths (a negative one leaves a gap), the pair
    scaled by ``factor`` about the baseline and with ``at_caps`` topped at the cap height (``Œ`` from ``O`` and ``E``; ``™``)."""
    pen = (pen_width(first) + pen_width(second)) / 2
    left, right = _bounds(first), _bounds(second)
    pair = first + moved(second, left.x_max - pen * overlap - right.x_min)
    pair = scaled(pair, factor, about=(_bounds(pair).centre[0], 0))
    return moved(pair, 0, heights.cap_height - _bounds(pair).y_max) if at_caps else pair


@operation
def crossed(base: Outline, bar: Outline, x: float, y: float, size: float, along: str, *, heights: Heights) -> Outline:
    """``base`` with ``bar`` drawn across it at ``y`` of its height, centred on the base's strokes at that height
    and ``x`` of its width to the right of them (the bar of ``đ`` on its stem; of ``€`` right of its bow).

    The bar keeps its pen. ``along`` "width": it is stretched to ``size`` of the base's width (``đ``, ``Ħ``, ``€``);
    "rising": to ``size`` of the base's height, and turned to rise to the right (the stroke of ``Ł``).
    """
    box, bar_box = _bounds(base), _bounds(bar)
    length = size * (box.width if along == "width" else box.height)
    shape = scaled(bar, length / bar_box.width, 1, about=bar_box.centre)
    if along == "rising":
        shape = turned_by(shape, RISE_DEGREES, about=bar_box.centre)
    at = box.y_min + y * box.height
    strokes = outline_bounds(clipped(base, lambda b: Bounds(b.x_min - 1, at - STROKE_ROW, b.x_max + 1, at + STROKE_ROW))) or box
    centre = _bounds(shape).centre
    return base + moved(shape, strokes.centre[0] + x * box.width - centre[0], at - centre[1])


@operation
def as_tall_as(source: Outline, like: Outline, *, heights: Heights) -> Outline:
    """``source`` scaled about the baseline to reach ``like``'s top (``ẞ`` from ``ß`` and ``H``)."""
    box = _bounds(source)
    return scaled(source, _bounds(like).y_max / box.y_max, about=(box.centre[0], 0))
