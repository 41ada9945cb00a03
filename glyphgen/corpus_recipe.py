"""The corpus recipe: a pretraining corpus of free fonts, assembled from package registries.

Few-shot models learn what letters are from many fonts. This recipe gathers
them only from what a fresh machine reaches -- npm's ``@fontsource/*`` packages
(Google Fonts, as WOFF2) and Debian's ``fonts-*`` packages -- keeps only freely
licensed ones, and **never** a family of the held-out list kept for independent
evaluation. Run it as::

    glyphgen corpus build --out datasets/cache/corpus
    glyphgen corpus build --script korean --out datasets/cache/corpus-korean

Steps, each checked:

1. *catalogue*: the Google Fonts catalogue shipped in the npm package
   ``google-font-metadata`` gives every family, its category and subsets;
2. *exclude*: every family whose name matches the held-out list is dropped
   before anything is downloaded (a name that starts with a held-out name, such
   as "... SC" or "... Two", counts too);
3. *fetch*: ``npm pack @fontsource/<id>`` (or ``apt-get download``), the regular
   face of the script's subset converted to TTF (for Korean, Google's named
   ``korean`` file holds the whole font); a Debian collection (``.ttc``) is
   unpacked into its faces;
4. *verify*: license OFL/Apache (as the package states it), the font's own name
   table not held out, an outline for every character the script's corpus rules
   require, a real lowercase where the script has one (caps-only fonts would
   teach that ``a`` is ``A``), and not a design already admitted under another
   name (its required glyphs drawn almost exactly like an admitted font's);
5. *manifest*: ``manifest.json`` records the script, each font's family, source,
   license, sha256 and split (a fixed 10% of families is for validation only);
6. *render*: ``rendered/`` holds every font's glyphs of the script's corpus
   charset on the canvas, one shard a font (see :mod:`glyphgen.corpus`, which
   also reads them).

The cache folder is git-ignored; the recipe rebuilds it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTCollection, TTFont
from scipy import ndimage

from . import bitmap
from .canvas import CORPUS_RENDER_SIZE, Canvas
from .corpus import CorpusFont, file_sha256, render_corpus, squash, write_manifest
from .errors import GlyphgenError
from .progress import Progress
from .render import missing_chars, render_glyphs
from .scripts import LATIN, Script

CATALOGUE_PACKAGE = "google-font-metadata@6.0.8"
FONTSOURCE_MAJOR = "5"
# Licenses a corpus font may carry: OFL and Apache, and the similarly free ones
# Debian's font packages use (GPL with or without the font exception, LPPL, ...).
_FREE_LICENSE = re.compile(
    r"^(OFL|SIL-OFL|SIL-1\.1|Apache-2(\.0)?|GPL|LGPL|AGPL|LPPL|GUST|MIT|Expat|BSD|Bitstream|DejaVu|Artistic|Baekmuk|CC0|CC-BY(-SA)?-[0-9.]+$|public-domain)",
    re.I,
)
_REGULAR_STYLES = ("regular", "book", "roman", "normal", "medium")
VALIDATION_PERCENT = 10
# Lowercase and capital ink heights are compared on this canvas: capitals ~35 px
# high tell a real lowercase from a caps-only font's with room to spare.
CAPS_CHECK_SIZE = 64
# Two fonts whose required glyphs overlap this much (ink intersection over union of their
# design prints) are one design under two names: Debian's "BM JUA" is Google's "Jua" set
# higher (0.91), "NanumMyeongjo Eco" is "Nanum Myeongjo" with holes (0.90), "D2Coding" has
# NanumBarunGothic's Hangul (1.0). Distinct Korean designs measured at most 0.78 (Black Han
# Sans and Gasoek One), most below 0.7.
SAME_DESIGN_IOU = 0.83
# A design print is the set's ink scaled to fill a square of this many pixels, rendered at twice that.
DESIGN_PRINT_SIZE = 48
# Families whose Latin is not text: barcodes, redaction bars, icon and blank fonts.
_NOT_TEXT = re.compile(r"barcode|redacted|blank|icons?\b|symbols?\b|emoji|flow circular|flow block|flow rounded", re.I)


# -- held-out families -------------------------------------------------------


def read_heldout(path: Path) -> tuple[str, ...]:
    """The held-out families, squashed; an unreadable list stops the recipe."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GlyphgenError(f"{path}: cannot read the held-out font list ({exc.strerror or exc}).") from None
    names = tuple(squash(line) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    if not names:
        raise GlyphgenError(f"{path}: the held-out font list names no family.")
    return names


def is_heldout(name: str, heldout: Sequence[str]) -> bool:
    """True when ``name`` (a family, npm id or file name) is, or starts with, a held-out family."""
    squashed = squash(name)
    return any(squashed.startswith(family) for family in heldout)


def font_names(path: Path) -> list[str]:
    """Every name a font calls itself: family, typographic family, full and PostScript names."""
    names = TTFont(path, lazy=True)["name"]
    return [str(record) for record in names.names if record.nameID in (1, 4, 6, 16, 21)]


# -- the catalogue -------------------------------------------------------------


def _npm_pack(spec: str, folder: Path) -> Path:
    """Download one npm package tarball into ``folder`` (the registry is the only source)."""
    try:
        result = subprocess.run(
            ["npm", "pack", spec, "--loglevel=error", "--pack-destination", str(folder)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except FileNotFoundError:
        raise GlyphgenError("npm is not installed; the corpus recipe fetches fonts from the npm registry.") from None
    if result.returncode != 0:
        reasons = [line for line in result.stderr.splitlines() if "npm error" in line and "log of this run" not in line]
        raise GlyphgenError(f"npm pack {spec} failed: {reasons[1 if len(reasons) > 1 else 0][10:] if reasons else result.returncode}")
    return folder / result.stdout.strip().splitlines()[-1]


def _tar_member(tarball: Path, name: str) -> bytes:
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(name)
        if member is None:
            raise KeyError(name)
        return member.read()


def read_catalogue(scratch: Path, subset: str = LATIN.corpus.fontsource_subset) -> list[dict]:
    """Every Google Fonts family with the ``subset`` (a script's, e.g. ``latin``): id, family, category, weights, styles."""
    tarball = _npm_pack(CATALOGUE_PACKAGE, scratch)
    families = json.loads(_tar_member(tarball, "package/data/google-fonts-v1.json"))
    return [f for f in families.values() if subset in f.get("subsets", ())]


def select_families(catalogue: Iterable[dict], heldout: Sequence[str], limit: int | None = None) -> list[dict]:
    """Candidate families: text fonts, none held out; handwriting first, then by a fixed shuffle.

    The shuffle is a hash of the id, so the selection is reproducible and every
    category is represented whatever the limit.
    """
    chosen = [
        f
        for f in catalogue
        if not is_heldout(f["family"], heldout)
        and not is_heldout(f["id"], heldout)
        and not _NOT_TEXT.search(f["family"])
        and not f["family"].endswith(" SC")  # small caps: no lowercase to learn from
        and 400 in f.get("weights", ())
        and "normal" in f.get("styles", ())
    ]
    chosen.sort(key=lambda f: (f.get("category") != "handwriting", _hash(f["id"])))
    return chosen[:limit] if limit else chosen


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def split_of(family_id: str) -> str:
    """A fixed split by family: the same family is never in both."""
    return "validation" if int(_hash(family_id)[:8], 16) % 100 < VALIDATION_PERCENT else "train"


# -- fetching ------------------------------------------------------------------


def fetch_fontsource(family: dict, fonts_dir: Path, scratch: Path, subset: str = LATIN.corpus.fontsource_subset) -> tuple[Path, str, str]:
    """The family's regular face of ``subset`` from npm, as TTF; returns (path, license, source)."""
    try:
        tarball = _npm_pack(f"@fontsource/{family['id']}@{FONTSOURCE_MAJOR}", scratch)
    except GlyphgenError as error:
        if "notarget" not in str(error):
            raise
        tarball = _npm_pack(f"@fontsource/{family['id']}", scratch)  # only an older major exists
    metadata = json.loads(_tar_member(tarball, "package/metadata.json"))
    license_id = spdx_license(metadata.get("license", ""))
    woff2 = _tar_member(tarball, f"package/files/{family['id']}-{subset}-400-normal.woff2")
    font = TTFont(io.BytesIO(woff2))
    font.flavor = None
    target = fonts_dir / f"{family['id']}.ttf"
    font.save(target)
    version = json.loads(_tar_member(tarball, "package/package.json")).get("version", "?")
    tarball.unlink(missing_ok=True)
    return target, license_id, f"npm:@fontsource/{family['id']}@{version}"


def fetch_debian(package: str, fonts_dir: Path, scratch: Path) -> list[tuple[Path, str, str, str]]:
    """Regular faces of a Debian font package: (path, family, license, source) each.

    ``apt-get download`` fetches the .deb without installing it; its DEP-5
    copyright file names the licenses. One face per family is kept (the regular
    one): the corpus wants many designs, not many weights of one.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"{package}-", dir=scratch))
    for command in (["apt-get", "download", package], None):
        if command is None:
            break
        try:
            result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600)
        except FileNotFoundError:
            raise GlyphgenError("apt-get is not available; build with --no-debian.") from None
        if result.returncode != 0:
            raise GlyphgenError(f"apt-get download {package} failed: {result.stderr.strip().splitlines()[-1:]}")
    debs = sorted(folder.glob("*.deb"))
    if not debs:
        raise GlyphgenError(f"apt-get download {package} gave no package file")
    tree = folder / "tree"
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(tree)], check=True, capture_output=True)
    version = debs[0].name.split("_")[1] if debs[0].name.count("_") >= 2 else "?"
    licenses = sorted({lic for doc in tree.glob("usr/share/doc/*/copyright") for lic in debian_licenses(doc.read_text("utf-8", "replace"))})
    unpack_collections(tree)
    by_family: dict[str, list[Path]] = {}
    for path in sorted(tree.rglob("*")):
        if path.suffix.lower() in (".ttf", ".otf") and path.is_file():
            try:
                names = TTFont(path, lazy=True)["name"]
                family = str(names.getDebugName(16) or names.getDebugName(1) or path.stem)
            except Exception:
                continue
            by_family.setdefault(family, []).append(path)
    faces = []
    for family, paths in by_family.items():
        regular = [p for p in paths if _style(p) in _REGULAR_STYLES] or paths
        source_path = regular[0]
        target = fonts_dir / f"debian-{package[len('fonts-') :]}-{squash(family)}{source_path.suffix.lower()}"
        target.write_bytes(source_path.read_bytes())
        faces.append((target, family, ", ".join(licenses), f"debian:{package}@{version}"))
    return faces


def unpack_collections(tree: Path) -> list[Path]:
    """Each face of every font collection (``.ttc``) under ``tree`` as a font file of its own beside it.

    FreeType and the name checks read one face a file; a collection's faces are
    often different families (D2Coding and D2Coding ligature), chosen like files.
    """
    faces = []
    for collection in sorted(tree.rglob("*")):
        if collection.suffix.lower() not in (".ttc", ".otc") or not collection.is_file():
            continue
        try:
            fonts = TTCollection(collection).fonts
        except Exception:  # an unreadable collection is no training data
            continue
        for index, font in enumerate(fonts):
            target = collection.with_name(f"{collection.stem}-{index}{'.otf' if 'CFF ' in font else '.ttf'}")
            font.save(target)
            faces.append(target)
    return faces


_LICENSE_PHRASES = (
    ("open font license", "OFL"),
    ("apache license", "Apache-2.0"),
    ("lesser general public license", "LGPL"),
    ("general public license", "GPL"),
    ("latex project public license", "LPPL"),
    ("public domain", "public-domain"),
)


def debian_licenses(copyright_text: str) -> list[str]:
    """The licenses a Debian copyright file gives the package's own files.

    Machine-readable (DEP-5) files: the ``License`` of every ``Files`` stanza
    except those covering only ``debian/*`` packaging. Older free-text files:
    the licenses they name.
    """
    found = []
    for stanza in re.split(r"\n\s*\n", copyright_text):
        fields = dict(re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", stanza, re.M))
        files = fields.get("Files", "").split()
        if files and fields.get("License") and not all(f.startswith("debian/") for f in files):
            found.append(fields["License"].split()[0])
    if found:
        return sorted(set(found))
    lowered = " ".join(copyright_text.lower().split())
    for phrase, license_id in _LICENSE_PHRASES:
        if phrase in lowered:
            return [license_id]
    return []


def _style(path: Path) -> str:
    names = TTFont(path, lazy=True)["name"]
    return str(names.getDebugName(17) or names.getDebugName(2) or "").strip().lower()


def spdx_license(stated: object) -> str:
    """A package's license statement as an SPDX id where we recognise it, else as stated."""
    text = stated.get("type", "") if isinstance(stated, dict) else str(stated or "")
    squashed = squash(text)
    if squashed in ("ofl11", "silopenfontlicense11") or "openfontlicense" in squashed and "11" in squashed:
        return "OFL-1.1"
    if squashed.startswith("apache") and "20" in squashed:
        return "Apache-2.0"
    return text


def is_free_license(license_ids: str) -> bool:
    """True when every license named (``A, B``) is OFL, Apache or similarly free."""
    ids = [part.strip() for part in license_ids.split(",") if part.strip()]
    return bool(ids) and all(_FREE_LICENSE.match(part) for part in ids)


def verify_font(path: Path, license_id: str, heldout: Sequence[str], script: Script = LATIN) -> str | None:
    """Why a fetched font may not enter a corpus of ``script``, or None when it may."""
    if not is_free_license(license_id):
        return f"license {license_id or 'unknown'} is not a free font license"
    try:
        names = font_names(path)
    except Exception as exc:  # a font fontTools cannot read is no training data
        return f"unreadable ({exc})"
    held = [name for name in names if is_heldout(name, heldout)]
    if held:
        return "its name table names a held-out family"  # not which: a manifest never spells one out
    lacking = missing_chars(path, script.corpus.required)
    if lacking:
        return f"no outline for {''.join(lacking[:10])}"
    if is_caps_only(path, script):
        return "caps only (its lowercase is as tall as its capitals)"
    return None


def is_caps_only(path: Path, script: Script = LATIN) -> bool:
    """Lowercase as tall as the capitals: caps-only or small-caps fonts (never, for a script without case)."""
    rules = script.corpus
    if not rules.lowercase:
        return False
    glyphs = render_glyphs(path, rules.lowercase + rules.uppercase, Canvas(CAPS_CHECK_SIZE))
    lower = [bitmap.ink_height(g) for g in glyphs[: len(rules.lowercase)]]
    upper = [bitmap.ink_height(g) for g in glyphs[len(rules.lowercase) :]]
    ratios = [lo / up for lo, up in zip(lower, upper) if up > 0]
    return bool(ratios) and float(np.median(ratios)) > rules.caps_only_ratio


def design_print(path: Path, script: Script = LATIN) -> np.ndarray:
    """The ink of the font's required glyphs, packed: what :func:`same_design` compares.

    One square around the ink of the whole set is scaled to DESIGN_PRINT_SIZE, so
    a design re-issued larger or higher on its em (Google's versions of Debian's
    fonts often are) prints the same; a closing fills pinholes (Nanum's ink-saving
    "Eco" cuts) that would otherwise part two prints of one design.
    """
    size = 2 * DESIGN_PRINT_SIZE
    glyphs = render_glyphs(path, script.corpus.required, Canvas(size))
    box = bitmap.ink_bbox(bitmap.ink_mask(glyphs.max(axis=0)))
    if box is None:
        return np.packbits(np.zeros((len(glyphs), DESIGN_PRINT_SIZE, DESIGN_PRINT_SIZE), dtype=bool))
    top, bottom, left, right = box
    side = max(bottom - top, right - left)
    top, left = (top + bottom - side) // 2 + size, (left + right - side) // 2 + size  # in the padded frame below
    framed = np.pad(glyphs, ((0, 0), (size, size), (size, size)))[:, top : top + side, left : left + side]
    prints = [ndimage.binary_closing(bitmap.ink_mask(bitmap.resample(glyph, DESIGN_PRINT_SIZE))) for glyph in framed]
    return np.packbits(np.stack(prints))


def same_design(print_: np.ndarray, others: Sequence[np.ndarray], threshold: float = SAME_DESIGN_IOU) -> int | None:
    """The index of the one of ``others`` whose glyphs overlap ``print_``'s most, at least ``threshold``, or None."""
    if not len(others):
        return None
    stacked = np.stack(others)
    shared = np.unpackbits(stacked & print_, axis=1).sum(axis=1)
    either = np.unpackbits(stacked | print_, axis=1).sum(axis=1)
    overlap = shared / np.maximum(either, 1)
    best = int(np.argmax(overlap))
    return best if overlap[best] >= threshold else None


# -- the whole recipe ------------------------------------------------------------


def build_corpus(
    out: Path,
    heldout_path: Path,
    *,
    limit: int | None = None,
    debian: bool = True,
    jobs: int = 4,
    canvas_size: int = CORPUS_RENDER_SIZE,
    script: Script = LATIN,
    same_design_iou: float | None = None,
    progress: Progress = Progress(),
) -> list[CorpusFont]:
    """Fetch, verify, record and render a corpus of ``script`` into ``out``; returns the manifest.

    A font whose design print overlaps an admitted font's by ``same_design_iou``
    (default: the script's ``CorpusRules.same_design_iou``) is refused as the same
    design (None: only equal family names are). The script's
    ``validation_families`` are never trained on.
    """
    same_design_iou = same_design_iou if same_design_iou is not None else script.corpus.same_design_iou
    kept_out = {squash(family) for family in script.corpus.validation_families}
    heldout = read_heldout(heldout_path)
    out = Path(out)
    fonts_dir = out / "fonts"
    fonts_dir.mkdir(parents=True, exist_ok=True)
    fonts: list[CorpusFont] = []
    prints: list[np.ndarray] = []  # design_print of each admitted font, in order
    skipped: list[str] = []

    def admit(path: Path, family: str, font_id: str, category: str, license_id: str, source: str) -> None:
        problem = verify_font(path, license_id, heldout, script)
        if problem is None and any(squash(f.family) == squash(family) for f in fonts):
            problem = "the same design is already in the corpus"
        if problem is None and same_design_iou is not None:
            print_ = design_print(path, script)
            twin = same_design(print_, prints, same_design_iou)
            if twin is not None:
                problem = f"the same design as {fonts[twin].id}, already in the corpus"
        if problem:
            path.unlink(missing_ok=True)
            skipped.append(f"{font_id}: {problem}")
            return
        if same_design_iou is not None:
            prints.append(print_)
        split = "validation" if squash(family) in kept_out else split_of(squash(family))
        fonts.append(CorpusFont(family, font_id, category, license_id, source, str(path.relative_to(out)), file_sha256(path), split))

    with tempfile.TemporaryDirectory(prefix="glyphgen-corpus-") as scratch:
        subset = script.corpus.fontsource_subset
        families = select_families(read_catalogue(Path(scratch), subset), heldout, limit)

        def guarded(fetch):
            """``fetch(item, fonts_dir, scratch)`` returning ``(item, result or the exception)``."""

            def run(item):
                try:
                    return item, fetch(item, fonts_dir, Path(scratch))
                except Exception as exc:  # one broken package must not end a long download
                    return item, exc

            return run

        with progress.stage("npm", total=len(families)), ThreadPoolExecutor(max_workers=jobs) as pool:
            for family, result in pool.map(guarded(functools.partial(fetch_fontsource, subset=subset)), families):
                if isinstance(result, Exception):
                    skipped.append(f"{family['id']}: not fetched ({type(result).__name__}: {result})")
                else:
                    admit(result[0], family["family"], family["id"], family.get("category", ""), result[1], result[2])
                progress.advance()

        packages = script.corpus.debian_packages if debian else ()

        with progress.stage("debian", total=len(packages)), ThreadPoolExecutor(max_workers=jobs) as pool:
            for package, result in pool.map(guarded(fetch_debian), packages):
                if isinstance(result, Exception):
                    skipped.append(f"{package}: not fetched ({type(result).__name__}: {result})")
                else:
                    for path, family, license_id, source in result:
                        if is_heldout(family, heldout):  # checked again by name table in admit
                            path.unlink(missing_ok=True)
                            skipped.append(f"{package}: a face of a held-out family")  # unnamed, as above
                            continue
                        admit(path, family, f"{package}/{squash(family)}", "debian", license_id, source)
                progress.advance()
    write_manifest(out, fonts, skipped, catalogue=CATALOGUE_PACKAGE, script=script)
    render_corpus(out, fonts, Canvas(canvas_size), progress, script=script)
    return fonts
