"""How well the content classifier reads fonts it was not trained on: the corpus validation fonts.

    python benchmarks/classifier_accuracy.py [--corpus datasets/cache/corpus] [--weights FOLDER]
    python benchmarks/classifier_accuracy.py --corpus datasets/cache/corpus-korean

Content accuracy in `glyphgen compare` is only as good as the classifier that
reads the glyphs. This prints its accuracy on every glyph of the validation
fonts (placed like samples, as generated glyphs are), the characters it reads
worst and its commonest confusions -- the ceiling any backend's content
accuracy should be read against. The corpus's script picks the bundled
classifier: a Korean corpus is read by the Korean one, on its syllables, and
the accuracy of each head (initial, medial, final jamo) is printed beside the
whole syllable's (right only when all three heads are).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from glyphgen.classifier import CharReader, validation_report
from glyphgen.corpus import corpus_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("datasets/cache/corpus"))
    parser.add_argument("--weights", type=Path, help="classifier model folder (default: the bundled one of the corpus's script)")
    args = parser.parse_args()

    script = corpus_script(args.corpus)
    reader = CharReader(args.weights, script=script)
    report = validation_report(reader, args.corpus)
    print(
        f"{reader.script.name} classifier: {reader.info.get('steps', '?')} steps on {reader.info.get('training_fonts', '?')} training fonts, "
        f"reading {reader.canvas.size} px glyphs"
    )
    print(f"\naccuracy on the {report.fonts} validation fonts: **{report.overall:.3f}** ({report.glyphs} glyphs, {len(report.per_char)} characters)\n")
    if len(report.per_head) > 1:
        print("| head | accuracy |\n|---|---|")
        for name, accuracy in report.per_head.items():
            print(f"| {name} | {accuracy:.3f} |")
        print(f"| whole {script.name} character (every head right) | {report.overall:.3f} |\n")
    print("| validation font | accuracy |\n|---|---|")
    for family, accuracy in sorted(report.per_font.items(), key=lambda kv: kv[1]):
        print(f"| {family} | {accuracy:.3f} |")
    print()
    print("| hardest characters | accuracy |\n|---|---|")
    for char, accuracy in sorted(report.per_char.items(), key=lambda kv: kv[1])[:12]:
        print(f"| `{char}` | {accuracy:.2f} |")
    print("\n| commonest confusions (truth → read) | glyphs |\n|---|---|")
    for want, got, count in report.confusions[:12]:
        print(f"| `{want}` → `{got}` | {count} |")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - started:.0f} s)")
