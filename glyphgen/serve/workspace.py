"""One browser's samples: a folder ``glyphgen build --samples`` reads, and what the page shows of it.

Each sample is stored as ``uniXXXX`` plus the suffix of the format its bytes
are in, whatever the upload was called: a name the user gave never becomes a
path. The name is kept apart, to say in messages (``IMG_0042.jpg: no ink
found; ...``) and on the page. Every image is checked as it arrives -- its
format from its bytes, its size, its ink, its character against the charset and
the reference font -- with the same sentences as the command line, so a bad
file is refused on the spot, not at build time.

The page shows each sample as the build will see it: cleaned, and placed with
the set's one scale against the reference font (:func:`glyphgen.samples.place_inks`),
and asks the content classifier whether it reads as another character.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import statistics
import tempfile
import threading
import time
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from glyphgen.canvas import Canvas
from glyphgen.charset import Charset, describe, get_charset
from glyphgen.errors import GlyphgenError
from glyphgen.pipeline import doubted
from glyphgen.progress import Progress
from glyphgen.render import require_chars
from glyphgen.samples import (
    MIN_SAMPLES,
    SampleSet,
    char_from_label,
    check_coverage,
    check_sample_char,
    extract_boxes,
    find_sample_files,
    load_ink,
    place_inks,
    reductions_for,
)

# The formats a sample is read in (glyphgen.samples reads these), by what PIL names them, and the suffix each is stored with.
SUFFIX_OF_FORMAT = {"PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg", "BMP": ".bmp", "TIFF": ".tif"}
SHOWN_SIZE = 96  # pixels of the picture of each placed sample
RECORDS_FILE = "samples.json"


class Unnamed(GlyphgenError):
    """An image whose name names no character: the page asks the writer which it is."""


class Notes(Progress):
    """A progress that keeps the notes (what the user must know) and nothing else."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def note(self, message: str) -> None:
        self.said.append(message)


@dataclass
class Workspace:
    id: str
    folder: Path
    charset: str = "latin-core"
    touched: float = field(default_factory=time.time)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _inks: dict[tuple[str, int, float], np.ndarray] = field(default_factory=dict, repr=False)  # (file, mtime, reduction) -> ink
    _listed: tuple[tuple, dict[str, Any]] | None = field(default=None, repr=False)  # the last listing, and the state of the files it shows

    def __post_init__(self) -> None:
        self.samples_dir.mkdir(parents=True, exist_ok=True)
        self.drawings_dir.mkdir(parents=True, exist_ok=True)

    @property
    def samples_dir(self) -> Path:
        """The samples as the build reads them."""
        return self.folder / "samples"

    @property
    def drawings_dir(self) -> Path:
        """The pad's drawings as drawn; ``samples_dir`` holds them fitted to the set's pixel size."""
        return self.folder / "drawings"

    def touch(self) -> None:
        self.touched = time.time()

    # -- adding and removing ---------------------------------------------------

    def add_sample(self, data: bytes, *, char: str | None = None, name: str | None = None, em: float | None = None) -> str:
        """Keep an image as the sample of ``char``, or of the character its file ``name`` names; returns the character.

        ``em``: the image is a drawing from the page's pad, whose em is that many
        pixels. The set is placed with one scale, which assumes one pixel size for
        all its images, so a drawing is kept at the pixel size of the set's other
        samples (see :meth:`_fit_drawings`).
        """
        shown = plain_name(name) if name else (f"your drawing of {char!r}" if char else "the upload")
        suffix = _image_suffix(data, shown)
        char = unicodedata.normalize("NFC", char) if char else None
        if not char:
            stem = plain_name(name or "").rsplit(".", 1)[0]
            char = char_from_label(stem)
            if char is None:
                raise Unnamed(f"{shown}: the file name names no character; say which character it shows.")
        if len(char) != 1:
            raise GlyphgenError(f"{shown}: {char!r} is not one character.")
        if em is not None and not 8 <= em <= 10_000:
            raise GlyphgenError(f"{shown}: em {em:g}: the drawing's em must be 8 to 10000 pixels.")
        charset = self.chosen_charset
        check_sample_char(char, charset, shown)
        reference = charset.script.reference_font()
        _said_of(lambda: require_chars(reference, [char], "the reference font"), reference, shown)
        with self.lock, tempfile.TemporaryDirectory(dir=self.folder) as scratch:
            trial = Path(scratch) / f"uni{ord(char):04X}{suffix}"
            trial.write_bytes(data)
            _said_of(lambda: load_ink(trial), trial, shown)  # readable, not too large, not blank
            self._remove_files(char)
            if em is None:
                trial.replace(self.samples_dir / trial.name)
            else:
                trial.replace(self.drawings_dir / trial.name)
            self._record(char, name or shown, em)
            self._fit_drawings()
        return char

    def add_sheet(self, data: bytes, name: str, progress: Progress = Progress()) -> list[str]:
        """Cut the written boxes out of a photo of a filled template sheet; each replaces an earlier sample of its character."""
        shown = plain_name(name) or "the sheet photo"
        suffix = _image_suffix(data, shown)
        with self.lock, tempfile.TemporaryDirectory(dir=self.folder) as scratch:
            photo = Path(scratch) / f"sheet{suffix}"
            photo.write_bytes(data)
            cut = Path(scratch) / "boxes"
            paths = _said_of(lambda: extract_boxes([photo], self.chosen_charset, cut, progress=progress), photo, shown)
            chars = []
            for path in paths:
                char = char_from_label(path.stem)
                self._remove_files(char)
                path.replace(self.samples_dir / path.name)
                self._record(char, f"{shown}, box {char}")
                chars.append(char)
            self._fit_drawings()
        return chars

    def remove(self, char: str) -> None:
        with self.lock:
            self._remove_files(char)
            records = self._records()
            records.pop(char, None)
            self._write_records(records)
            self._fit_drawings()

    def _fit_drawings(self) -> None:
        """Store each drawing at the pixel size of the set's other samples: one em as many pixels as theirs.

        Their pixels per em come from placing them (the set's scale, in font units
        per pixel as read, times how much reading shrinks them). A set of drawings
        alone keeps the pad's size: their ems already agree.
        """
        drawn = {char: em for char, (_, em) in self._records().items() if em is not None and (self.drawings_dir / f"uni{ord(char):04X}.png").exists()}
        if not drawn:
            return
        charset = self.chosen_charset
        others = {char: path for char, path in self.files().items() if char not in drawn and char in charset}
        px_per_em = None
        if others:
            placed, reductions = self._placed(others, charset)
            px_per_em = Canvas(SHOWN_SIZE).units_per_em / placed.scale * statistics.median(reductions.values())
        for char, em in drawn.items():
            name = f"uni{ord(char):04X}.png"
            with Image.open(self.drawings_dir / name) as drawing:
                factor = px_per_em / em if px_per_em else 1.0
                size = (max(1, round(drawing.width * factor)), max(1, round(drawing.height * factor)))
                fitted = drawing.resize(size, Image.Resampling.LANCZOS) if size != drawing.size else drawing.copy()
            scratch = self.samples_dir / f".{name}.tmp"
            fitted.save(scratch, "PNG")
            scratch.replace(self.samples_dir / name)

    def set_charset(self, name: str) -> None:
        get_charset(name)  # an unknown charset is one sentence
        self.charset = name

    @property
    def chosen_charset(self) -> Charset:
        return get_charset(self.charset)

    # -- reading ----------------------------------------------------------------

    def files(self) -> dict[str, Path]:
        """Each sample's character and file, in Unicode order."""
        found = {char_from_label(path.stem): path for path in self.samples_dir.iterdir() if path.suffix in SUFFIX_OF_FORMAT.values()}
        return {char: found[char] for char in sorted(found, key=ord) if char}

    def listing(self, reader_of: Callable[[Any], Any]) -> dict[str, Any]:
        """Every sample as the build will see it, whether it reads as another character, and the notes on the set.

        ``reader_of(script)`` gives the content classifier of a script (loaded once, by the server).
        """
        with self.lock:
            files = self.files()
            records = self.folder / RECORDS_FILE
            key = (self.charset, tuple((path.name, path.stat().st_mtime_ns) for path in files.values()), records.exists() and records.stat().st_mtime_ns)
            if self._listed is None or self._listed[0] != key:
                self._listed = key, self._listing(files, reader_of)
            return self._listed[1]

    def _listing(self, files: dict[str, Path], reader_of: Callable[[Any], Any]) -> dict[str, Any]:
        names = self._names()
        charset = self.chosen_charset
        fitting = {char: path for char, path in files.items() if char in charset}
        entries = {
            char: {"char": char, "code": f"U+{ord(char):04X}", "name": names.get(char, path.name), "picture": None, "doubt": None, "problem": None}
            for char, path in files.items()
        }
        for char in files.keys() - fitting.keys():
            entries[char]["problem"] = f"{describe(char)} is not in the {charset.name} charset; remove it or choose another charset."
        notes = Notes()
        if fitting:
            self._place(fitting, charset, entries, reader_of(charset.script))
            try:
                check_coverage(tuple(fitting), Path("your samples"), charset, notes)
            except GlyphgenError as exc:  # too few to build yet: a note while the writer is still writing
                notes.note(str(exc))
        else:
            notes.note(f"no samples yet: give at least {MIN_SAMPLES}, ideally these {len(charset.script.recommended_samples)}.")
        return {
            "charset": charset.name,
            "recommended": charset.script.recommended_samples,
            "samples": list(entries.values()),
            "notes": [note.replace("your samples: ", "") for note in notes.said],
        }

    def _place(self, files: dict[str, Path], charset: Charset, entries: dict[str, dict], reader) -> None:
        """The picture of each sample placed as the build places it, and the character it plainly reads as instead, if any."""
        placed, _ = self._placed(files, charset)
        for char, glyph in placed.on_canvas(Canvas(SHOWN_SIZE)).items():
            entries[char]["picture"] = _png_data_uri(glyph)
        for char, other in doubted(placed, reader).items():
            entries[char]["doubt"] = other

    def _placed(self, files: dict[str, Path], charset: Charset) -> tuple[SampleSet, dict[Path, float]]:
        """The samples read and placed as the build reads and places them, and how much reading shrank each image."""
        reductions = reductions_for(files.values())
        inks = {char: (path, self._ink(path, reductions[path])) for char, path in files.items()}
        return place_inks(inks, charset.script.reference_font(), Canvas(SHOWN_SIZE)), reductions

    def _ink(self, path: Path, reduction: float) -> np.ndarray:
        key = (path.name, path.stat().st_mtime_ns, reduction)
        if key not in self._inks:
            self._inks[key] = load_ink(path, reduction)
        return self._inks[key]

    def check_buildable(self) -> None:
        """The build's own check of the folder (names, charset), said of the page's samples."""
        _said_of(lambda: find_sample_files(self.samples_dir, self.chosen_charset), self.samples_dir, "your samples")

    def copy_samples(self, into: Path) -> Path:
        """The samples as they are now, copied to ``into/samples`` (a queued build is not changed by later edits)."""
        with self.lock:
            return Path(shutil.copytree(self.samples_dir, into / "samples"))

    def zipped(self) -> bytes:
        """Every sample in a zip: ``samples/``, named as ``glyphgen build --samples`` reads them, and beside it what each was called."""
        buffer = io.BytesIO()
        with self.lock, zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            names, files = self._names(), self.files()
            for path in files.values():
                archive.write(path, f"samples/{path.name}")
            archive.writestr("original-names.txt", "".join(f"samples/{path.name}\t{names.get(char, path.name)}\n" for char, path in files.items()))
        return buffer.getvalue()

    # -- what each sample was called, and the drawings' ems -------------------------------

    def _records(self) -> dict[str, tuple[str, float | None]]:
        """char -> (the name the user gave, the drawing's pixels per em, or None for an image)."""
        path = self.folder / RECORDS_FILE
        return {char: (name, em) for char, (name, em) in json.loads(path.read_text(encoding="utf-8")).items()} if path.exists() else {}

    def _names(self) -> dict[str, str]:
        return {char: name for char, (name, _) in self._records().items()}

    def _write_records(self, records: dict[str, tuple[str, float | None]]) -> None:
        (self.folder / RECORDS_FILE).write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")

    def _record(self, char: str, name: str, em: float | None = None) -> None:
        records = self._records()
        records[char] = (plain_name(name), em)
        self._write_records(records)

    def _remove_files(self, char: str) -> None:
        for folder in (self.samples_dir, self.drawings_dir):
            for path in folder.glob(f"uni{ord(char):04X}.*"):
                path.unlink()


def plain_name(name: str) -> str:
    """A file name as a browser sent it, for saying only: its last part, NFC, without control characters."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in unicodedata.normalize("NFC", last) if c.isprintable())[:120]


def _image_suffix(data: bytes, shown: str) -> str:
    """The suffix of the image format ``data`` is in, read from its bytes; anything else is one sentence."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            format = image.format
    except (UnidentifiedImageError, OSError, ValueError):
        format = None
    if format not in SUFFIX_OF_FORMAT:
        raise GlyphgenError(f"{shown}: not an image glyphgen reads (PNG, JPEG, BMP or TIFF).")
    return SUFFIX_OF_FORMAT[format]


def _said_of(work: Callable[[], Any], path: Path, shown: str) -> Any:
    """``work()``, its error sentence naming ``shown`` where it named the server's own ``path``."""
    try:
        return work()
    except GlyphgenError as exc:
        raise type(exc)(str(exc).replace(str(path), shown)) from None


def _png_data_uri(glyph: np.ndarray) -> str:
    """Ink dark on paper, as the writer drew it."""
    grey = np.clip(255 - glyph * 255, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
