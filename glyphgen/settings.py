"""Settings as dataclasses: read from a TOML file or ``--set KEY=VALUE``, checked against their defaults and limits.

Every settings type in glyphgen (a backend's config, the classifier's training
config) subclasses :class:`Settings`, so each reads, checks and writes itself the
same way. A setting has its default's type; a number is finite and within its
:class:`Limit` (``LIMITS``, else ≥ 0: no count, rate, weight or size in glyphgen
is negative); a list holds at least one item, each within the limit; a word
setting with ``CHOICES`` is one of them; and settings that must agree with each
other are checked by :meth:`Settings.conflicts`. A setting that breaks a rule is
one sentence naming the source and the setting.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .canvas import EXPORT_SIZE
from .errors import GlyphgenError

S = TypeVar("S", bound="Settings")


@dataclasses.dataclass(frozen=True)
class Limit:
    """The numbers a setting may take: ``low`` to ``high`` (None: no end); an open end is itself left out."""

    low: float | None = 0
    high: float | None = None
    open_low: bool = False  # above low, not at it: a learning rate of 0 learns nothing
    open_high: bool = False  # below high, not at it: an EMA decay of 1 never moves

    def holds(self, number: float) -> bool:
        if self.low is not None and (number <= self.low if self.open_low else number < self.low):
            return False
        return self.high is None or (number < self.high if self.open_high else number <= self.high)

    def words(self) -> str:
        """The limit as a user reads it: "≥ 0", "> 0", "from 8 to 1024", "≥ 0 and < 1"."""
        low = f"{'>' if self.open_low else '≥'} {_number(self.low)}" if self.low is not None else ""
        high = f"{'<' if self.open_high else '≤'} {_number(self.high)}" if self.high is not None else ""
        if low and high:
            return f"from {_number(self.low)} to {_number(self.high)}" if not (self.open_low or self.open_high) else f"{low} and {high}"
        return low or high


NOT_NEGATIVE = Limit(0)  # every number without a limit of its own
ABOVE_ZERO = Limit(0, open_low=True)  # learning rates
AT_LEAST_ONE = Limit(1)  # counts of things there must be: batch sizes, layer widths, attention heads
SEED = Limit(0, 2**32 - 1)  # numpy and torch take seeds below 2**32; a larger one overflows inside a backend
DECAY = Limit(0, 1, open_high=True)  # a moving average's decay: at 1 it would never move
# A model's canvas: from the smallest a Canvas allows to twice the canvas its glyphs are enlarged to for tracing.
CANVAS_SIZES = Limit(8, 2 * EXPORT_SIZE)

_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "text"}
_PLURAL_WORDS = {int: "integers", float: "numbers"}


@dataclasses.dataclass
class Settings:
    # Old names of settings that were renamed, with the name to use now: said in the error.
    RENAMED: ClassVar[dict[str, str]] = {}
    # Each number setting's limit, where it is not NOT_NEGATIVE; a subclass's add to (and override) its bases'.
    LIMITS: ClassVar[dict[str, Limit]] = {}
    # The words a word setting may be; a subclass's add to its bases'.
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def from_dict(cls: type[S], values: dict[str, Any], source: str = "config") -> S:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            renamed = cls.RENAMED.get(unknown[0])
            hint = f"; it is now called {renamed}" if renamed else f" (known: {', '.join(sorted(fields))})"
            raise GlyphgenError(f"{source}: unknown setting {unknown[0]!r}{hint}.")
        defaults = cls()
        checked = {name: cls._checked(name, value, getattr(defaults, name), source) for name, value in values.items()}
        settings = cls(**checked)
        problem = next(settings.conflicts(), None)
        if problem:
            raise GlyphgenError(f"{source}: {problem}.")
        return settings

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def conflicts(self) -> Iterator[str]:
        """Settings each valid alone that do not go together, each in words naming the setting
        (e.g. "setting 'samples_min' (12) must not be above samples_max (8)"); a subclass adds its own."""
        yield from ()

    @classmethod
    def limits(cls) -> dict[str, Limit]:
        """``LIMITS`` merged down the class hierarchy: a subclass keeps its bases' limits."""
        return _merged(cls, "LIMITS")

    @classmethod
    def choices(cls) -> dict[str, tuple[str, ...]]:
        """``CHOICES`` merged down the class hierarchy."""
        return _merged(cls, "CHOICES")

    @classmethod
    def _checked(cls, name: str, value: Any, default: Any, source: str) -> Any:
        """``value`` as the setting ``name`` holds it (a list as the default's tuple, an int as a float), if the rules allow it."""
        limit, choices = cls.limits().get(name, NOT_NEGATIVE), cls.choices().get(name)
        if not _allowed(value, default, limit, choices):
            raise GlyphgenError(f"{source}: setting {name!r} must be {_described(default, limit, choices)}, not {_shown(value)}.")
        if isinstance(default, (list, tuple)):
            return type(default)(value)
        return float(value) if isinstance(default, float) else value


def _merged(cls: type, attribute: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get(attribute, {}))
    return merged


def _allowed(value: Any, default: Any, limit: Limit, choices: tuple[str, ...] | None) -> bool:
    """Whether ``value`` has ``default``'s type (an int is a number; a bool is no integer) and keeps the limit or choices."""
    if isinstance(default, (list, tuple)):
        items_like = default[0] if default else None
        return isinstance(value, (list, tuple)) and len(value) > 0 and all(items_like is None or _allowed(item, items_like, limit, None) for item in value)
    if isinstance(value, bool) or isinstance(default, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        kinds = (int, float) if isinstance(default, float) else int
        return isinstance(value, kinds) and _finite(value) and limit.holds(value)
    if isinstance(default, str):
        return isinstance(value, str) and (choices is None or value in choices)
    return isinstance(value, type(default))


def _finite(number: float) -> bool:
    """Not inf or nan; an integer too large for a float is no finite number either (it becomes one when a float setting takes it)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _described(default: Any, limit: Limit, choices: tuple[str, ...] | None) -> str:
    """What a setting may be, in a user's words: "an integer ≥ 0", "cosine or linear", "a list of one or more integers ≥ 1"."""
    if choices:
        return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]
    if isinstance(default, (list, tuple)):
        items = _PLURAL_WORDS.get(type(default[0]), "items") if default else "items"
        numeric = default and isinstance(default[0], (int, float)) and not isinstance(default[0], bool)
        return f"a list of one or more {items}" + (f" {limit.words()}" if numeric else "")
    words = _TYPE_WORDS.get(type(default), f"like {_shown(default)}")
    return f"{words} {limit.words()}" if type(default) in (int, float) else words


def _shown(value: Any) -> str:
    """A value as the user wrote it: true and false in lower case, text quoted, lists bracketed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    return repr(value)


def _number(number: float | None) -> str:
    return str(int(number)) if number is not None and float(number).is_integer() else repr(number)


def read_settings_file(path: Path, table: str, tables_only: bool = False) -> dict[str, Any]:
    """Settings from a TOML file: its ``[table]``, else (unless ``tables_only``) its top-level keys."""
    import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: no such config file.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GlyphgenError(f"{path}: not valid TOML ({exc}).") from None
    found = data.get(table)
    if isinstance(found, dict):
        return dict(found)
    return {} if tables_only else {k: v for k, v in data.items() if not isinstance(v, dict)}
