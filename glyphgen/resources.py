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


def library_fonts(script: str = "latin") -> list[Path]:
    """The bundled fonts of varied styles that the retrieval baseline picks from: ``fonts/library``
    for Latin, ``fonts/library-<script>`` for another script (``library-korean``)."""
    folder = data_dir("fonts") / ("library" if script == "latin" else f"library-{script}")
    if not folder.is_dir():
        raise FileNotFoundError(f"glyphgen has no bundled {script} font library ({folder} is missing)")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".ttf", ".otf"))


def demo_samples(script: str = "latin") -> Path:
    """The bundled 30-character sample set of ``script``: ``demo-hand`` (Latin) or ``demo-hangul`` (Korean)."""
    return data_dir("datasets") / {"latin": "demo-hand", "korean": "demo-hangul"}[script] / "samples"


def bundled_weights(backend: str, script: str = "latin") -> Path:
    """The folder of a backend's pretrained weights shipped inside the package: ``weights/<backend>``
    for Latin, ``weights/<backend>-<script>`` for another script (``fewshot-korean``)."""
    return _PACKAGE / "weights" / (backend if script == "latin" else f"{backend}-{script}")
