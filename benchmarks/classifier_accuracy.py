"""How well the content classifier reads fonts it was not trained on: the corpus validation fonts.

    python benchmarks/classifier_accuracy.py [--corpus datasets/cache/corpus] [--weights FOLDER]

Content accuracy in `glyphgen compare` is only as good as the classifier that
reads the glyphs. This prints its accuracy on every glyph of the validation
fonts (placed like samples, as generated glyphs are), the characters it reads
worst and its commonest confusions -- the ceiling any backend's content
accuracy should be read against.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from glyphgen.classifier import CharReader, validation_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("datasets/cache/corpus"))
    parser.add_argument("--weights", type=Path, help="classifier model folder (default: the bundled one)")
    args = parser.parse_args()

    reader = CharReader(args.weights)
    overall, per_char, confusions = validation_accuracy(reader, args.corpus)
    print(
        f"classifier: {reader.info.get('steps', '?')} steps on {reader.info.get('training_fonts', '?')} training fonts, reading {reader.canvas.size} px glyphs"
    )
    print(f"\naccuracy on the validation fonts: **{overall:.3f}** ({len(per_char)} characters)\n")
    print("| hardest characters | accuracy |\n|---|---|")
    for char, accuracy in sorted(per_char.items(), key=lambda kv: kv[1])[:12]:
        print(f"| `{char}` | {accuracy:.2f} |")
    print("\n| commonest confusions (truth → read) | glyphs |\n|---|---|")
    for want, got, count in confusions[:12]:
        print(f"| `{want}` → `{got}` | {count} |")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - started:.0f} s)")
