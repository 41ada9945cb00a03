"""No font family kept for independent evaluation may ship with glyphgen.

The list lives in ``../shared/heldout-fonts.txt`` beside the checkout (CI has it);
elsewhere these tests are skipped, since there is nothing to check against.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

REPO = Path(__file__).resolve().parent.parent
HELDOUT_LIST = REPO.parent / "shared" / "heldout-fonts.txt"


def squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@pytest.fixture(scope="module")
def heldout() -> list[str]:
    if not HELDOUT_LIST.exists():
        pytest.skip(f"{HELDOUT_LIST} is not beside this checkout")
    lines = HELDOUT_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def bundled_fonts() -> list[Path]:
    return sorted(p for p in (REPO / "fonts").rglob("*") if p.suffix.lower() in (".ttf", ".otf", ".woff2"))


def test_there_are_bundled_fonts_to_check():
    assert len(bundled_fonts()) >= 10


def test_no_bundled_font_is_a_heldout_family(heldout):
    for path in bundled_fonts():
        names = {squash(path.stem)}
        names |= {squash(str(record)) for record in TTFont(path)["name"].names if record.nameID in (1, 4, 6, 16)}
        for family in heldout:
            assert not any(squash(family) in name for name in names), f"{path} is held-out family {family}"


def test_no_file_under_fonts_or_datasets_names_a_heldout_family(heldout):
    texts = [p for folder in ("fonts", "datasets") for p in (REPO / folder).rglob("*") if p.suffix in (".py", ".json", ".txt", ".csv", ".md")]
    assert texts
    for path in texts:
        words = squash(path.read_text(encoding="utf-8", errors="replace"))
        for family in heldout:
            # Squashed names of two words or more are distinctive enough to search as text.
            if " " in family:
                assert squash(family) not in words, f"{path} names held-out family {family}"
            else:
                pattern = rf"\b{re.escape(family)}\b"
                assert not re.search(pattern, path.read_text(encoding="utf-8", errors="replace"), re.IGNORECASE), f"{path} names held-out family {family}"


def test_the_corpus_recipe_selects_no_heldout_family(heldout):
    from glyphgen.corpus_recipe import read_heldout, select_families

    listed = read_heldout(HELDOUT_LIST)
    catalogue = [
        {"family": name, "id": name.lower().replace(" ", "-"), "category": "handwriting", "weights": [400], "styles": ["normal"]}
        for family in heldout
        for name in (family, f"{family} SC", f"{family} Two")
    ]
    assert select_families(catalogue, listed) == []
