"""glyphgen: from a handful of hand-drawn characters to a complete, installable font."""

__version__ = "0.1.0"

# What `glyphgen build` uses unless told otherwise: the pretrained few-shot model. Kept here,
# not in glyphgen.backends, so the CLI can name it without importing every backend (and torch).
DEFAULT_BACKEND = "fewshot"
