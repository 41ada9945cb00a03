"""Settings as dataclasses: read from a TOML file or ``--set KEY=VALUE``, checked against their defaults.

Every settings type in glyphgen (a backend's config, the classifier's training
config) subclasses :class:`Settings`, so each reads, checks and writes itself the
same way; a setting has its default's type, and a wrong name or type is one
sentence naming the source.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .errors import GlyphgenError

S = TypeVar("S", bound="Settings")


@dataclasses.dataclass
class Settings:
    # Old names of settings that were renamed, with the name to use now: said in the error.
    RENAMED: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_dict(cls: type[S], values: dict[str, Any], source: str = "config") -> S:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            renamed = cls.RENAMED.get(unknown[0])
            hint = f"; it is now called {renamed}" if renamed else f" (known: {', '.join(sorted(fields))})"
            raise GlyphgenError(f"{source}: unknown setting {unknown[0]!r}{hint}.")
        defaults = cls()
        checked = {}
        for name, value in values.items():  # a setting has its default's type: 3 for an int, [..] for a list
            default = getattr(defaults, name)
            if isinstance(default, tuple) and isinstance(value, list):
                value = tuple(value)
            expected = (float, int) if isinstance(default, float) else type(default)
            if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, expected):
                raise GlyphgenError(f"{source}: setting {name!r} must be a {type(default).__name__} like {default!r}, not {value!r}.")
            checked[name] = float(value) if isinstance(default, float) else value
        return cls(**checked)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
