"""The one exception type a user ever sees.

Anything that goes wrong because of what the user gave us (a file, an option, a
font) is raised as :class:`GlyphgenError` with one sentence that names the file or
option and the problem. The CLI prints that sentence and exits with code 2; every
other exception is a bug in glyphgen and keeps its traceback.
"""

from __future__ import annotations


class GlyphgenError(Exception):
    """Bad input, reported to the user as one sentence (CLI exit code 2)."""

    exit_code = 2


class ValidationError(GlyphgenError):
    """A font we compiled failed validation; it was not written (exit code 1)."""

    exit_code = 1
