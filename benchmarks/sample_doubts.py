"""How often the classifier's doubts about sample labels are false alarms, and how often they catch a mislabel.

    python benchmarks/sample_doubts.py [--corpus datasets/cache/corpus] [--fonts 40] [--photo-fonts 10]
        [--seed 0] [--demo datasets/demo-hand/samples] [--sweep 0.8,0.05 0.9,0.02 ...]

``CharReader.doubts`` tells a writer "this looks like `o`, you labelled it `a`"
when the reader is sure of another character (``sure``) and finds the label
unlikely (``unlikely``). For each validation font of the corpus (never trained
on), Latin's recommended samples are rendered from the font (``clean``; for the
first ``--photo-fonts`` of them also degraded like a phone photo, which takes
~15 s a font), ingested like a person's images and placed on the reader's
canvas, then labelled three ways:

* ``false alarms``: their true labels; a doubt is a false alarm;
* ``random swap``: each labelled as another character of the sample set, drawn with ``--seed``;
* ``case swap``: each letter labelled as its case twin (``O`` for ``o``); twins of one
  shape (o/O, s/S) are hard to catch for any reader, so they are kept apart.

Detection counts a mislabelled sample doubted, and how many of those doubts name
the sample's real character (the warning tells the writer what it
is). The bundled demo hand (rendered from Coming Soon, a training font of the
corpus: flattering) is read the same way. Prints Markdown tables: the default
thresholds, a sweep over (sure, unlikely) pairs, and the characters falsely
doubted most.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glyphgen.charset import get_charset
from glyphgen.classifier import DOUBT_SURE, DOUBT_UNLIKELY, CharReader
from glyphgen.corpus import read_manifest
from glyphgen.errors import GlyphgenError
from glyphgen.render import missing_chars
from glyphgen.samples import load_samples, place_inks, read_inks
from glyphgen.scripts import LATIN
from glyphgen.synthetic import write_samples

CHARSET = get_charset("latin-core")
SWEEP = ("0.5,0.01", "0.7,0.02", "0.8,0.02", "0.8,0.05", "0.9,0.02", "0.95,0.01", "0.97,0.005")
LABELLINGS = ("false alarms", "random swap", "case swap")


@dataclass
class Condition:
    """Sample glyphs of one condition, pooled over fonts: the glyphs, their true characters and their mislabels."""

    name: str
    glyphs: list[np.ndarray] = field(default_factory=list)
    truth: list[str] = field(default_factory=list)
    labels: dict[str, list[str | None]] = field(default_factory=lambda: {name: [] for name in LABELLINGS})

    def add(self, chars: Sequence[str], glyphs: Sequence[np.ndarray], reader: CharReader, rng: np.random.Generator) -> None:
        chars = list(chars)
        self.glyphs += list(glyphs)
        self.truth += chars
        self.labels["false alarms"] += chars
        for char in chars:
            others = [c for c in chars if c != char]
            self.labels["random swap"].append(others[rng.integers(len(others))])
            twin = char.swapcase()
            self.labels["case swap"].append(twin if len(twin) == 1 and twin != char and reader.knows(twin) else None)


@dataclass
class Outcome:
    """One labelling under one pair of thresholds: samples doubted of those labelled, and doubts naming the true character."""

    doubted: int
    total: int
    names_truth: int
    wrongly: Counter  # (label, read as) of doubted samples whose label was right

    @property
    def rate(self) -> float:
        return self.doubted / self.total if self.total else float("nan")


def read_once(reader: CharReader) -> None:
    """Let ``reader`` run its network once per set of glyphs: every labelling and threshold of a condition reads the same glyphs."""
    network = reader.log_probabilities
    seen: dict[tuple, list[np.ndarray]] = {}

    def cached(glyphs: np.ndarray, batch_size: int = 256) -> list[np.ndarray]:
        glyphs = np.ascontiguousarray(glyphs)
        key = (glyphs.shape, str(glyphs.dtype), hashlib.sha1(glyphs.tobytes()).hexdigest())
        if key not in seen:
            seen[key] = network(glyphs, batch_size)
        return seen[key]

    reader.log_probabilities = cached  # type: ignore[method-assign]


def judge(reader: CharReader, condition: Condition, labelling: str, sure: float, unlikely: float) -> Outcome:
    labelled = [i for i, label in enumerate(condition.labels[labelling]) if label is not None]
    if not labelled:
        return Outcome(0, 0, 0, Counter())
    labels = [condition.labels[labelling][i] for i in labelled]
    glyphs = np.stack([condition.glyphs[i] for i in labelled])
    doubts = reader.doubts(glyphs, labels, sure=sure, unlikely=unlikely)
    truth = [condition.truth[i] for i in labelled]
    doubted = [(label, other, real) for label, other, real in zip(labels, doubts, truth) if other is not None]
    wrongly = Counter((label, other) for label, other, real in doubted if label == real)
    return Outcome(len(doubted), len(labelled), sum(other == real for _, other, real in doubted), wrongly)


def font_samples(font: Path, folder: Path, photo: bool, reader: CharReader, seed: int) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """``font``'s recommended Latin samples written into ``folder`` (clean or as photos), read and placed on the reader's canvas."""
    write_samples(font, folder, LATIN.recommended_samples, photo=photo, seed=seed)
    samples = place_inks(read_inks(folder, CHARSET), LATIN.reference_font(), reader.canvas)
    on_canvas = samples.on_canvas(reader.canvas)
    return samples.chars, [on_canvas[c] for c in samples.chars]


def _percent(outcome: Outcome) -> str:
    return "–" if not outcome.total else f"{100 * outcome.rate:.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("datasets/cache/corpus"))
    parser.add_argument("--fonts", type=int, default=40, help="validation fonts to use (0: all)")
    parser.add_argument("--photo-fonts", type=int, default=10, help="of those, how many are also read as photos (0: none)")
    parser.add_argument("--demo", type=Path, default=Path("datasets/demo-hand/samples"), help="a person's sample folder read too ('' for none)")
    parser.add_argument("--seed", type=int, default=0, help="for the photo degradation and the random mislabels")
    parser.add_argument("--sweep", nargs="+", default=list(SWEEP), metavar="SURE,UNLIKELY", help="threshold pairs to compare")
    args = parser.parse_args()

    reader = CharReader(script=LATIN)
    read_once(reader)
    rng = np.random.default_rng(args.seed)
    fonts = [f for f in read_manifest(args.corpus) if f.split == "validation"]
    conditions = {name: Condition(name) for name in ("clean", "photo")[: 2 if args.photo_fonts else 1]}
    used = 0
    for font in fonts:
        if args.fonts and used == args.fonts:
            break
        path = args.corpus / font.file
        if missing_chars(path, LATIN.recommended_samples):
            print(f"  {font.family}: lacks some recommended samples, skipped", flush=True)
            continue
        try:
            read = {}
            for name in ("clean", "photo")[: 2 if used < args.photo_fonts else 1]:
                with tempfile.TemporaryDirectory() as scratch:
                    read[name] = font_samples(path, Path(scratch), name == "photo", reader, args.seed)
        except GlyphgenError as exc:
            print(f"  {font.family}: skipped ({exc})", flush=True)
            continue
        used += 1
        for name, (chars, glyphs) in read.items():
            conditions[name].add(chars, glyphs, reader, rng)
        print(f"  {font.family}: " + "  ".join(f"{name} {len(chars)} samples" for name, (chars, _) in read.items()), flush=True)
    if args.demo and str(args.demo) not in ("", "."):
        demo = Condition("demo hand")
        samples = load_samples(args.demo, CHARSET, LATIN.reference_font(), reader.canvas)
        on_canvas = samples.on_canvas(reader.canvas)
        demo.add(samples.chars, [on_canvas[c] for c in samples.chars], reader, rng)
        conditions[demo.name] = demo

    sweep = [tuple(float(v) for v in pair.split(",")) for pair in args.sweep]
    pairs = tuple(dict.fromkeys((*sweep, (DOUBT_SURE, DOUBT_UNLIKELY))))  # the defaults are always judged
    outcomes = {
        (name, labelling, pair): judge(reader, condition, labelling, *pair)
        for name, condition in conditions.items()
        for labelling in LABELLINGS
        for pair in pairs
    }
    photos = min(used, args.photo_fonts)
    print(f"\n{used} validation fonts ({photos} also as photos), {len(LATIN.recommended_samples)} samples each; seed {args.seed}.")

    print(f"\n### Default thresholds: sure ≥ {DOUBT_SURE}, label ≤ {DOUBT_UNLIKELY}\n")
    print("| condition | labels | doubted | samples | rate | doubts naming the true character |")
    print("|---|---|---|---|---|---|")
    for name in conditions:
        for labelling in LABELLINGS:
            outcome = outcomes[(name, labelling, (DOUBT_SURE, DOUBT_UNLIKELY))]
            named = "–" if labelling == "false alarms" or not outcome.doubted else f"{outcome.names_truth}/{outcome.doubted}"
            print(f"| {name} | {labelling} | {outcome.doubted} | {outcome.total} | {_percent(outcome)} | {named} |")

    print("\n### Sweep: rate (doubted) per (sure, unlikely)\n")
    print("| condition | labels | " + " | ".join(f"{sure}, {unlikely}" for sure, unlikely in pairs) + " |")
    print("|---|---|" + "---|" * len(pairs))
    for name in conditions:
        for labelling in LABELLINGS:
            cells = [f"{_percent(o)} ({o.doubted})" for o in (outcomes[(name, labelling, pair)] for pair in pairs)]
            print(f"| {name} | {labelling} | " + " | ".join(cells) + " |")

    print(f"\n### Correct labels doubted most at the default thresholds (over {', '.join(conditions)})\n")
    wrongly = {name: outcomes[(name, "false alarms", (DOUBT_SURE, DOUBT_UNLIKELY))].wrongly for name in conditions}
    total = sum(wrongly.values(), Counter())
    if not total:
        print("none")
        return
    print("| label → read as | " + " | ".join(conditions) + " | all |")
    print("|---|" + "---|" * (len(conditions) + 1))
    for (label, other), count in total.most_common(10):
        print(f"| `{label}` → `{other}` | " + " | ".join(str(wrongly[name][(label, other)]) for name in conditions) + f" | {count} |")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - started:.0f} s)")
