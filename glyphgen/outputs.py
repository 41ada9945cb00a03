"""Writing what a command makes without losing anything: no silent overwrite, no half-written file.

A command first asks :func:`check_output_folder` (before any work: a folder that
already holds its outputs needs ``--force``), then hands every file to
:func:`write_all`, which writes each under a temporary name and renames them all
into place, so an interrupted or failed run never leaves a half-written font or
report behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from .errors import GlyphgenError


def check_output_folder(out: Path, force: bool, is_output: Callable[[Path], bool]) -> None:
    """Refuse to overwrite a folder that already holds outputs (``is_output``), unless forced."""
    if out.exists() and not out.is_dir():
        raise GlyphgenError(f"{out}: the output must be a folder, and this is a file.")
    ancestor = out
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise GlyphgenError(f"{out}: cannot write there ({ancestor} is not writable).")
    if force or not out.exists():
        return
    existing = sorted(p.name for p in out.iterdir() if is_output(p))
    if existing:
        raise GlyphgenError(f"{out}: already holds {existing[0]}; choose another --out or pass --force to overwrite.")


def scratch_name(path: Path) -> Path:
    """A temporary name beside ``path`` that no other process, on this machine or another, uses."""
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write(file)`` into a temporary file of this process, renamed to ``path``: readers never see half a file."""
    scratch = scratch_name(Path(path))
    try:
        with open(scratch, "wb") as file:
            write(file)
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)


def write_all(paths: Mapping[str, Path], contents: Mapping[str, bytes]) -> None:
    """Write every file under a temporary name first, then rename them all into place."""
    folder = next(iter(paths.values())).parent
    pending = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for key, path in paths.items():
            temporary = scratch_name(path)
            pending.append((temporary, path))
            temporary.write_bytes(contents[key])
        for temporary, path in pending:
            os.replace(temporary, path)
    except OSError as exc:
        raise GlyphgenError(f"{folder}: cannot write there ({exc.strerror or exc}).") from None
    finally:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
