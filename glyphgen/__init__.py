"""glyphgen: from a handful of hand-drawn characters to a complete, installable font."""

__version__ = "0.1.0"
