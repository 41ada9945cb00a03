#!/usr/bin/env python3
"""Regenerate the demo-hand sample set: 30 "phone photos" of handwritten characters.

The characters are rendered from the handwriting font *Coming Soon* (Open Window,
Apache-2.0) and degraded so that they look like a photo or scan of a character written
with a ballpoint pen on paper: dark blue-black ink on off-white paper, small rotation
and shear, uneven pen pressure, uneven illumination (gradient + soft shadow), paper
texture, mild blur, sensor noise, a few dust specks away from the letter, and a JPEG
round trip (quality 66-74, 4:2:0) before the image is stored as an 8-bit RGB PNG.

All characters are drawn at the SAME font size with the baseline at the same height
above the bottom of a "writing line" box (as on lined paper), so relative sizes and
baselines are consistent across the set; only the crop margins around that box vary.
Everything is seeded, so the output is deterministic for a given font file.

Getting the font (it is NOT stored in the repository):

    tmp=$(mktemp -d) && cd "$tmp"
    npm pack @fontsource/coming-soon@5.3.0          # -> fontsource-coming-soon-5.3.0.tgz
    tar xzf fontsource-coming-soon-5.3.0.tgz
    # font file: $tmp/package/files/coming-soon-latin-400-normal.woff2
    # (Pillow/FreeType reads .woff2 directly when Pillow was built with brotli,
    #  which the PyPI wheels are; otherwise convert it with fontTools:
    #  python -c "from fontTools.ttLib import TTFont as T; f=T('in.woff2'); f.flavor=None; f.save('ComingSoon-Regular.ttf')")

Then, from the repository root:

    python datasets/demo-hand/make_samples.py "$tmp/package/files/coming-soon-latin-400-normal.woff2"

Needs glyphgen installed (the drawing and degradation live in glyphgen/synthetic.py,
which the benchmarks share). Writes datasets/demo-hand/samples/uniXXXX.png.

The Korean demo set (datasets/demo-hangul, from Cute Font: see its README) is made by the
same script, with the Korean recommended syllables:

    python datasets/demo-hand/make_samples.py --script korean FONT --out datasets/demo-hangul/samples
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glyphgen.scripts import get_script
from glyphgen.synthetic import SEED, write_samples

HERE = Path(__file__).resolve().parent


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("font", help="path to the font file (.woff2 / .ttf): Coming Soon for Latin, Cute Font for Korean")
    ap.add_argument("--script", default="latin", help="whose recommended samples to write (latin, korean)")
    ap.add_argument("--out", default=HERE / "samples", type=Path, help="output folder")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args(argv)
    paths = write_samples(a.font, a.out, get_script(a.script).recommended_samples, photo=True, seed=a.seed)
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} images, {total / 1024:.0f} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
