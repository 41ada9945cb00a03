"""Where the bundled fonts and sample sets are, installed or in a checkout.

A wheel carries ``fonts/`` and ``datasets/`` inside the ``glyphgen`` package; an
editable install or a checkout has them beside it, at the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"glyphgen's bundled {name}/ folder is missing from this installation")


def reference_font(script: str = "latin") -> Path:
    """The reference font of ``script``: clean, neutral letterforms (Noto Sans for Latin)."""
    from .scripts import get_script  # scripts reads its files through this module

    return get_script(script).reference_font()


def library_fonts() -> list[Path]:
    """The bundled fonts of varied styles that the retrieval baseline picks from."""
    folder = data_dir("fonts") / "library"
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".ttf", ".otf"))


def demo_samples() -> Path:
    """The bundled 30-character handwriting sample set."""
    return data_dir("datasets") / "demo-hand" / "samples"


def bundled_weights(backend: str) -> Path:
    """The folder of a backend's pretrained weights shipped inside the package."""
    return _PACKAGE / "weights" / backend
