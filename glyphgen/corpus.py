"""The font corpus on disk, as models read it: its manifest, and its glyphs read lazily.

A corpus folder (assembled by :mod:`glyphgen.corpus_recipe`) holds::

    manifest.json           every font: family, source, license, sha256 and split
    fonts/                  the font files
    rendered/               each font's glyphs of its script's corpus charset, on the render canvas
    placed-<S>-<key>/       the same glyphs placed on an S px model canvas like a person's samples (a cache)

A glyph folder is one uint8 ``.npy`` shard per font, ``(chars, S, S)``, opened
memory-mapped, beside a small ``index.npz``: the characters, the font ids, the
canvas, the shard names and which glyphs each font has. 3,755 Chinese characters
at 128 px are 61.5 MB a font on disk, and in memory only the index and the pages
a batch touches: 1,000 fonts do not need 61 GB of RAM. Every file is written under
a temporary name and renamed into place, the index last, so a folder with an index
is complete; several DDP ranks may place the same corpus at once. Both formats,
the manifest and the glyph folders, are written and read here; the recipe decides
what goes in. Use it as::

    placed = placed_corpus(folder, Canvas(config.canvas_size), reference_font())
    train = placed.split("train")                  # no glyph is read
    batch = train.glyphs[font_rows, char_columns]  # uint8 (..., S, S), read from the shards
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import bitmap
from .canvas import MEASURE_SIZE, Canvas
from .charset import get_charset
from .errors import GlyphgenError
from .outputs import scratch_name, write_atomically
from .progress import Progress
from .render import render_glyphs
from .samples import ink_boxes, place_in_boxes
from .scripts import LATIN, Script, get_script

MANIFEST_FILE = "manifest.json"
RENDERED_FOLDER = "rendered"
INDEX_FILE = "index.npz"
LEGACY_RENDERED_FILE = "glyphs.npz"  # the rendered cache before shards: one dense array of every font
INK_LEVEL = 128  # a rendered pixel this dark (of 255) is ink: a glyph without one is one the font lacks


@dataclass(frozen=True)
class CorpusFont:
    family: str
    id: str
    category: str
    license: str
    source: str
    file: str  # relative to the corpus folder
    sha256: str
    split: str  # "train" or "validation"


def squash(name: str) -> str:
    """A family name reduced to lowercase letters and digits ("Caveat Brush" -> "caveatbrush")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- the manifest -----------------------------------------------------------------


def write_manifest(out: Path, fonts: Sequence[CorpusFont], skipped: Sequence[str], *, catalogue: str = "", script: Script = LATIN) -> Path:
    """``manifest.json``: the script, the fonts (by id), what was skipped and why, and the catalogue they were chosen from."""
    manifest = {
        "recipe": "glyphgen corpus build",
        "script": script.name,
        "catalogue": catalogue,
        "fonts": [asdict(f) for f in sorted(fonts, key=lambda f: f.id)],
        "skipped": sorted(skipped),
    }
    path = Path(out) / MANIFEST_FILE
    write_atomically(path, lambda file: file.write(json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")))
    return path


def read_manifest(out: Path) -> list[CorpusFont]:
    path = Path(out) / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [CorpusFont(**entry) for entry in data["fonts"]]
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: no corpus here; build one with `glyphgen corpus build`.") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise GlyphgenError(f"{path}: not a corpus manifest ({exc}).") from None


def corpus_script(out: Path) -> Script:
    """The script a corpus is of, as its manifest records it (manifests older than the key are Latin)."""
    path = Path(out) / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: no corpus here; build one with `glyphgen corpus build`.") from None
    except ValueError as exc:
        raise GlyphgenError(f"{path}: not a corpus manifest ({exc}).") from None
    name = data.get("script", LATIN.name) if isinstance(data, dict) else None
    try:
        return get_script(name)
    except (GlyphgenError, TypeError):
        raise GlyphgenError(f"{path}: the corpus is of script {name!r}, which this glyphgen does not know.") from None


# -- glyph folders: one shard per font, an index, read lazily -------------------------


class ShardedGlyphs:
    """A uint8 ``(fonts, chars, S, S)`` array kept on disk as one ``.npy`` shard per font.

    Indexing reads only what it names: ``glyphs[fonts, chars]`` with integer arrays
    that broadcast (as numpy's fancy indexing) gathers those glyphs into an
    ndarray, ``glyphs[i]`` is font ``i``'s shard memory-mapped, and
    ``glyphs[rows]`` stacks whole fonts. At most OPEN_SHARDS shards stay mapped at
    once: each mapping holds a file descriptor, and a corpus may have thousands.
    """

    OPEN_SHARDS = 128
    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, paths: Sequence[Path], chars: int, size: int):
        self.paths = tuple(Path(p) for p in paths)
        self.shape = (len(self.paths), chars, size, size)
        self._mapped: OrderedDict[Path, np.memmap] = OrderedDict()

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return f"ShardedGlyphs(shape={self.shape}, folder={self.paths[0].parent if self.paths else None})"

    def __getstate__(self) -> dict:  # pickled (e.g. to a worker process) without its open mappings
        return {**self.__dict__, "_mapped": OrderedDict()}

    def select(self, rows: Sequence[int]) -> ShardedGlyphs:
        """The fonts at ``rows``, still unread."""
        return ShardedGlyphs([self.paths[i] for i in rows], self.shape[1], self.shape[2])

    def shard(self, row: int) -> np.memmap:
        """Font ``row``'s glyphs ``(chars, S, S)``, memory-mapped."""
        path = self.paths[row]
        mapped = self._mapped.pop(path, None)
        if mapped is None:
            try:
                mapped = np.load(path, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise GlyphgenError(f"{path}: cannot read this glyph shard ({exc}); delete its folder to rebuild it.") from None
            if mapped.shape != self.shape[1:] or mapped.dtype != self.dtype:
                raise GlyphgenError(f"{path}: a glyph shard of {mapped.dtype} {mapped.shape}, not uint8 {self.shape[1:]}; delete its folder to rebuild it.")
        self._mapped[path] = mapped
        while len(self._mapped) > self.OPEN_SHARDS:
            self._mapped.popitem(last=False)
        return mapped

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        fonts, chars, pixels = key[0], key[1] if len(key) > 1 else None, key[2:]
        if isinstance(fonts, (int, np.integer)):
            return self.shard(range(len(self))[fonts])[key[1:]]
        rows = np.arange(len(self))[fonts]  # numpy's own checks: bounds, negative rows, masks, slices
        if chars is None:
            return np.stack([self.shard(int(row)) for row in rows]) if len(rows) else np.zeros((0, *self.shape[1:]), self.dtype)
        if isinstance(chars, slice) or chars is Ellipsis:
            raise TypeError("index a ShardedGlyphs by fonts and characters with integer arrays (glyphs[fonts, chars])")
        rows, columns = np.broadcast_arrays(rows, np.asarray(chars))
        if columns.dtype.kind not in "iu":
            raise TypeError(f"character indices must be integers, not {columns.dtype}")
        out = np.empty(rows.shape + self.shape[2:], self.dtype)
        flat_rows, flat_columns, flat_out = rows.ravel(), columns.ravel(), out.reshape(-1, *self.shape[2:])
        order = np.argsort(flat_rows, kind="stable")  # one pass over each font's shard
        fonts_read, starts = np.unique(flat_rows[order], return_index=True)
        for row, picked in zip(fonts_read, np.split(order, starts[1:])):
            flat_out[picked] = self.shard(int(row))[flat_columns[picked]]
        return out[(slice(None),) * rows.ndim + tuple(pixels)] if pixels else out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every glyph in memory (the whole corpus: mind its size)."""
        whole = self[np.arange(len(self))]
        return whole if dtype is None else whole.astype(dtype)


@dataclass
class GlyphFolder:
    """A glyph folder as its index describes it: lazy ``glyphs``, and ``present`` in memory."""

    folder: Path
    glyphs: ShardedGlyphs
    present: np.ndarray  # (fonts, chars) bool: the font has this glyph
    chars: tuple[str, ...]
    font_ids: list[str]
    canvas: Canvas

    @classmethod
    def open(cls, folder: Path) -> GlyphFolder:
        """The glyph folder ``folder``; FileNotFoundError when it has no index (not written, or not finished)."""
        path = Path(folder) / INDEX_FILE
        try:
            with np.load(path, allow_pickle=False) as index:
                chars = tuple(chr(c) for c in index["chars"])
                size, em_bottom, em_top, units_per_em = index["canvas"].tolist()
                canvas = Canvas(int(size), em_bottom, em_top, int(units_per_em))
                shards = [path.parent / str(name) for name in index["shards"]]
                font_ids = [str(i) for i in index["font_ids"]]
                present = index["present"].astype(bool)
        except FileNotFoundError:
            raise
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise GlyphgenError(f"{path}: not a glyph index ({exc}); delete its folder to rebuild it.") from None
        return cls(Path(folder), ShardedGlyphs(shards, len(chars), canvas.size), present, chars, font_ids, canvas)

    def row_of(self, font_id: str) -> int:
        try:
            return self.font_ids.index(font_id)
        except ValueError:
            raise GlyphgenError(f"{self.folder}: font {font_id} of the manifest is not rendered here; run `glyphgen corpus build` again.") from None


def write_shard(path: Path, glyphs: np.ndarray) -> None:
    write_atomically(path, lambda file: np.save(file, np.ascontiguousarray(glyphs, dtype=np.uint8), allow_pickle=False))


def write_index(folder: Path, *, chars: Sequence[str], font_ids: Sequence[str], shards: Sequence[str], present: np.ndarray, canvas: Canvas) -> None:
    """The index of a glyph folder whose shards are all written: the folder is complete once it exists."""
    fields = {
        "chars": np.array([ord(c) for c in chars], dtype=np.int32),
        "font_ids": np.array(list(font_ids), dtype=str),
        "shards": np.array(list(shards), dtype=str),
        "present": np.asarray(present, dtype=bool),
        "canvas": np.array([canvas.size, canvas.em_bottom, canvas.em_top, canvas.units_per_em], dtype=np.float64),
    }
    write_atomically(Path(folder) / INDEX_FILE, lambda file: np.savez_compressed(file, **fields))


def _shard_name(row: int) -> str:
    return f"{row:05d}.npy"


# -- rendering ------------------------------------------------------------------------


def render_corpus(
    out: Path, fonts: Sequence[CorpusFont], canvas: Canvas, progress: Progress = Progress(), *, script: Script = LATIN, replace: bool = True
) -> Path:
    """Render every font's glyphs of ``script``'s corpus charset on ``canvas`` into ``out/rendered``.

    The new folder is assembled beside the old one and swapped in whole, so an
    interrupted render leaves the previous one in place. Unless ``replace``, a
    rendering another process put in place meanwhile is kept (it renders the same).
    """
    out = Path(out)
    chars = get_charset(script.corpus.charset).inked_chars
    folder = out / RENDERED_FOLDER
    scratch = scratch_name(folder)
    scratch.mkdir(parents=True)
    present = np.zeros((len(fonts), len(chars)), dtype=bool)
    with progress.stage("render", total=len(fonts)):
        for i, font in enumerate(fonts):
            glyphs = np.round(render_glyphs(out / font.file, chars, canvas) * 255).astype(np.uint8)
            present[i] = (glyphs >= INK_LEVEL).any(axis=(1, 2))
            write_shard(scratch / _shard_name(i), glyphs)
            progress.advance()
    write_index(scratch, chars=chars, font_ids=[f.id for f in fonts], shards=[_shard_name(i) for i in range(len(fonts))], present=present, canvas=canvas)
    retired = scratch.with_suffix(".old")
    if folder.exists() and replace:
        folder.rename(retired)
    try:
        scratch.rename(folder)
    except OSError:  # not replacing, and another process renamed its own in first
        shutil.rmtree(scratch)
    shutil.rmtree(retired, ignore_errors=True)
    return folder


def rendered_corpus(out: Path, fonts: Sequence[CorpusFont], progress: Progress = Progress()) -> GlyphFolder:
    """The rendered glyphs of ``out``; a corpus rendered in the old one-array format is rendered again, at its canvas."""
    out = Path(out)
    try:
        return GlyphFolder.open(out / RENDERED_FOLDER)
    except FileNotFoundError:
        pass
    legacy = out / LEGACY_RENDERED_FILE
    try:
        with np.load(legacy, allow_pickle=False) as old:  # an npz member is read only when asked for: the canvas, not the glyphs
            size, em_bottom, em_top, units_per_em = old["canvas"].tolist()
    except FileNotFoundError:
        raise GlyphgenError(f"{out / RENDERED_FOLDER / INDEX_FILE}: the corpus is not rendered; run `glyphgen corpus build` again.") from None
    except (OSError, KeyError, ValueError) as exc:
        raise GlyphgenError(f"{legacy}: not a rendered corpus ({exc}); run `glyphgen corpus build` again.") from None
    progress.log(f"{legacy}: the corpus was rendered in an older format; rendering it again into {out / RENDERED_FOLDER} (the old file may be deleted).")
    render_corpus(out, fonts, Canvas(int(size), em_bottom, em_top, int(units_per_em)), progress, replace=False)  # ranks may all get here
    return GlyphFolder.open(out / RENDERED_FOLDER)


# -- the corpus as a model sees it ------------------------------------------------------


@dataclass
class PlacedCorpus:
    """Every corpus font placed on ``canvas`` exactly as a person's samples would be.

    A model learns to map reference glyphs to glyphs *as ingest delivers them*
    (one scale for the whole set, each glyph at its reference glyph's anchor), so
    each font goes through :func:`glyphgen.samples.place_samples` like a photo
    set would. ``glyphs`` is uint8 ``(fonts, chars, S, S)``, read from disk where
    indexed (:class:`ShardedGlyphs`); ``present`` marks the glyphs a font has.
    """

    glyphs: ShardedGlyphs
    present: np.ndarray
    chars: tuple[str, ...]
    fonts: list[CorpusFont]
    canvas: Canvas

    def split(self, name: str) -> PlacedCorpus:
        """The fonts of split ``name`` ("train" or "validation"); reads no glyph."""
        keep = [i for i, f in enumerate(self.fonts) if f.split == name]
        return PlacedCorpus(self.glyphs.select(keep), self.present[keep], self.chars, [self.fonts[i] for i in keep], self.canvas)


def placed_corpus(out: Path, canvas: Canvas, reference: Path, progress: Progress = Progress()) -> PlacedCorpus:
    """The corpus in ``out`` placed on ``canvas`` against ``reference``; cached beside the manifest, opened lazily."""
    out = Path(out)
    fonts = read_manifest(out)
    rendered = rendered_corpus(out, fonts, progress)
    identity = [
        [[f.id, f.sha256] for f in fonts],
        "".join(rendered.chars),
        [rendered.canvas.size, rendered.canvas.em_bottom, rendered.canvas.em_top],
        [canvas.size, canvas.em_bottom, canvas.em_top],
        file_sha256(reference),
    ]
    key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]
    folder = out / f"placed-{canvas.size}-{key}"
    try:
        placed = GlyphFolder.open(folder)
    except FileNotFoundError:
        placed = _place(folder, fonts, rendered, canvas, reference, progress)
    return PlacedCorpus(placed.glyphs, placed.present, placed.chars, fonts, canvas)


def _place(folder: Path, fonts: Sequence[CorpusFont], rendered: GlyphFolder, canvas: Canvas, reference: Path, progress: Progress) -> GlyphFolder:
    """Place every font's rendered ink on ``canvas`` into ``folder``, one shard a font.

    A shard already there was written whole by an earlier, interrupted run (or by
    another rank placing the same corpus): it is kept, not placed again.
    """
    folder.mkdir(parents=True, exist_ok=True)
    chars = rendered.chars
    rows = [rendered.row_of(font.id) for font in fonts]
    measure = canvas.scaled(MEASURE_SIZE)
    boxes = _reference_boxes(reference, chars, measure)
    with progress.stage("place", total=len(fonts)):
        for i, (font, row) in enumerate(zip(fonts, rows)):
            shard = folder / _shard_name(i)
            if not shard.exists():
                write_shard(shard, _place_font(font, rendered.glyphs.shard(row), chars, boxes, measure, canvas))
            progress.advance()
    shards = [_shard_name(i) for i in range(len(fonts))]
    # A glyph is placed exactly where the rendering has ink: what the font has is what the rendering found.
    write_index(folder, chars=chars, font_ids=[f.id for f in fonts], shards=shards, present=rendered.present[rows], canvas=canvas)
    return GlyphFolder.open(folder)


def _reference_boxes(reference: Path, chars: Sequence[str], measure: Canvas, batch: int = 256) -> dict:
    """The reference glyphs' ink boxes on ``measure``, rendered a batch at a time (3,755 measuring-size glyphs would take 4 GB)."""
    boxes = {}
    for start in range(0, len(chars), batch):
        part = chars[start : start + batch]
        boxes.update(ink_boxes(dict(zip(part, render_glyphs(reference, part, measure)))))
    return boxes


def _place_font(font: CorpusFont, rendered: np.ndarray, chars: Sequence[str], boxes: dict, measure: Canvas, canvas: Canvas) -> np.ndarray:
    """One font's rendered glyphs ``(chars, S', S')`` cropped to their ink and placed on ``canvas`` as a sample set."""
    inks = {}
    for j, char in enumerate(chars):
        mask = rendered[j] >= INK_LEVEL
        box = bitmap.ink_bbox(mask)
        if box is not None:
            inks[char] = (Path(font.file), mask[box[0] : box[1], box[2] : box[3]])
    placed = np.zeros((len(chars), canvas.size, canvas.size), dtype=np.uint8)
    index = {char: j for j, char in enumerate(chars)}
    for char, sample in place_in_boxes(inks, boxes, measure).samples.items():
        placed[index[char]] = np.round(sample.on_canvas(canvas) * 255)
    return placed
