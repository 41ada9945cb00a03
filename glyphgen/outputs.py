"""Writing what a command makes without losing anything: no silent overwrite, no half-written file.

A command first asks :func:`check_output_folder` (before any work: a folder that
already holds its outputs needs ``--force``), then hands every file to
:func:`write_all`, which writes each under a temporary name and renames them all
into place, so an interrupted or failed run never leaves a half-written font or
report behind. SIGTERM unwinds like Ctrl-C (:func:`exit_cleanly_on_sigterm`), so
the temporary files go too; what a SIGKILL or a power cut leaves is removed by the
next run writing into the folder (:func:`remove_stale_scratch`).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from .errors import GlyphgenError

# scratch_name's pattern: the process that wrote the file, and its random tag.
_SCRATCH = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}\.tmp$")
# A scratch file untouched this long is not being written (a write finishes in seconds).
STALE_AFTER_SECONDS = 60.0
# The exit status of a process ended by SIGTERM, as shells report it.
SIGTERM_EXIT = 128 + signal.SIGTERM


def refuse_input_as_output(out: Path, inputs: Path, option: str) -> None:
    """An output folder that is the input folder would feed this run's files into the next run."""
    try:
        same = out.resolve() == inputs.resolve()
    except OSError:
        return  # an unreadable path fails later, with its own message
    if same:
        raise GlyphgenError(f"--out {out}: this is the {option} folder; write the results elsewhere, or the next run reads them as input.")


def check_output_folder(out: Path, force: bool, is_output: Callable[[Path], bool]) -> None:
    """Refuse to overwrite a folder that already holds outputs (``is_output``), unless forced."""
    if out.exists() and not out.is_dir():
        raise GlyphgenError(f"{out}: the output must be a folder, and this is a file.")
    ancestor = out
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise GlyphgenError(f"{out}: cannot write there ({ancestor} is not writable).")
    if not out.exists():
        return
    remove_stale_scratch(out)
    if force:
        return
    existing = sorted(p.name for p in out.iterdir() if is_output(p))
    if existing:
        raise GlyphgenError(f"{out}: already holds {existing[0]}; choose another --out or pass --force to overwrite.")


def scratch_name(path: Path) -> Path:
    """A temporary name beside ``path`` that no other process, on this machine or another, uses."""
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def remove_stale_scratch(folder: Path) -> list[Path]:
    """Delete scratch files of :func:`scratch_name`'s naming that a killed run left in ``folder``.

    A file is stale when the process that wrote it is gone and it has not been
    touched for STALE_AFTER_SECONDS; the second test spares a file another
    machine is writing into a shared folder right now (its process id means
    nothing here). Other files, hidden or not, are never touched.
    """
    removed = []
    now = time.time()
    for path in folder.iterdir():
        match = _SCRATCH.match(path.name)
        if not match or not path.is_file() or _process_alive(int(match.group(1))):
            continue
        try:
            if now - path.stat().st_mtime >= STALE_AFTER_SECONDS:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # gone already, or not ours to delete
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: assume it writes
    return True


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM (``kill``, a closing terminal, a job scheduler) unwind like Ctrl-C.

    Python's default for SIGTERM ends the process at once, skipping the
    ``finally`` blocks that delete scratch files; raising SystemExit instead runs
    them. A handler someone else installed (an embedding application) is kept.
    """
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum, frame) -> None:
    sys.exit(SIGTERM_EXIT)


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
