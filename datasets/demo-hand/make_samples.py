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

Requires numpy and Pillow only. Writes datasets/demo-hand/samples/uniXXXX.png.
"""
from __future__ import annotations

import argparse
import io
import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CHARS = "ABDEGHMORSabdefghkmnoprsty0125"
assert len(CHARS) == 30

FONT_SIZE = 270          # px per em: x-height ~150 px, caps ~200 px, ascenders/descenders ~210-235 px
LINE_TOP = 0.86          # writing-line box: from baseline - 0.86 em ...
LINE_BOTTOM = 0.36       # ... to baseline + 0.36 em (covers ascenders and descenders)
SEED = 20261123
HERE = os.path.dirname(os.path.abspath(__file__))


def render_mask(font: ImageFont.FreeTypeFont, ch: str, pad: int):
    """Antialiased ink mask of one character; returns (mask, baseline_y, (x0, x1) ink extent)."""
    em = FONT_SIZE
    w = int(2.0 * em) + 2 * pad
    h = int((LINE_TOP + LINE_BOTTOM) * em) + 2 * pad
    base_y = pad + int(LINE_TOP * em)
    img = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(img)
    d.text((pad + em // 2, base_y), ch, font=font, fill=255, anchor="ls")
    box = img.getbbox()
    if box is None:
        raise SystemExit(f"font has no outline for {ch!r}")
    return img, base_y, box


def paper_and_light(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Off-white paper colour with texture, a brightness gradient and a soft shadow (float RGB 0..255)."""
    # off-white paper; white balance varies a little along the warm-cool axis only
    base = np.array([238, 234, 222], float) + rng.uniform(-6, 5) + rng.uniform(-1, 1) * np.array([4, 1, -6])
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    # low-frequency paper mottling: upsampled random field
    small = rng.normal(0, 1, (max(2, h // 40), max(2, w // 40)))
    mott = np.asarray(Image.fromarray(((small - small.min()) / (np.ptp(small) + 1e-9) * 255).astype(np.uint8))
                      .resize((w, h), Image.BICUBIC), float) / 255.0 - 0.5
    fine = np.asarray(Image.fromarray(rng.normal(128, 40, (h, w)).clip(0, 255).astype(np.uint8))
                      .filter(ImageFilter.GaussianBlur(1.2)), float) / 255.0 - 0.5
    tex = 1.0 + 0.035 * mott + 0.02 * fine
    # illumination: linear gradient in a random direction ...
    ang = rng.uniform(0, 2 * math.pi)
    g = (np.cos(ang) * (xx / w - 0.5) + np.sin(ang) * (yy / h - 0.5))
    light = 1.0 + rng.uniform(0.10, 0.22) * g
    # ... plus a soft shadow blob (hand / phone) entering from one side
    cx = rng.choice([-0.3, 1.3]) * w if rng.random() < 0.5 else rng.uniform(0, w)
    cy = rng.uniform(0, h) if abs(cx - w / 2) > w / 2 else rng.choice([-0.3, 1.3]) * h
    r = rng.uniform(0.5, 0.9) * max(h, w)
    shadow = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))
    light *= 1.0 - rng.uniform(0.08, 0.20) * shadow
    # slight vignette
    v = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2)
    light *= 1.0 - 0.10 * v
    return base[None, None, :] * (tex * light)[..., None], light


def make_one(font, ch: str, rng: np.random.Generator) -> Image.Image:
    pad = 80
    mask, base_y, (x0, y0, x1, y1) = render_mask(font, ch, pad)
    # random geometric distortion: rotation +-3 deg and a slight shear, about the ink centre
    rot = math.radians(rng.uniform(-3, 3))
    shear = rng.uniform(-0.06, 0.06)
    cx, cy = (x0 + x1) / 2, base_y - 0.3 * FONT_SIZE
    c, s = math.cos(rot), math.sin(rot)
    # inverse map (output -> input) for PIL's affine transform: A = R * Shear, use A^-1
    a = np.array([[c, -s], [s, c]]) @ np.array([[1, shear], [0, 1]])
    ai = np.linalg.inv(a)
    off = np.array([cx, cy]) - ai @ np.array([cx, cy])
    mask = mask.transform(mask.size, Image.AFFINE,
                          (ai[0, 0], ai[0, 1], off[0], ai[1, 0], ai[1, 1], off[1]),
                          resample=Image.BICUBIC)
    # crop: writing-line box (same for every character) + random margins; horizontal: ink + margins
    bx0, _, bx1, _ = mask.getbbox()
    top = base_y - int(LINE_TOP * FONT_SIZE) - int(rng.integers(10, 55))
    bot = base_y + int(LINE_BOTTOM * FONT_SIZE) + int(rng.integers(10, 55))
    left = bx0 - int(rng.integers(35, 95))
    right = bx1 + int(rng.integers(35, 95))
    top, left = max(0, top), max(0, left)
    bot, right = min(mask.height, bot), min(mask.width, right)
    mask = mask.crop((left, top, right, bot))
    w, h = mask.size

    m = np.asarray(mask, float) / 255.0
    # pen: ink a bit thinner/heavier per image, uneven pressure along the strokes
    if rng.random() < 0.5:
        m = np.asarray(mask.filter(ImageFilter.MaxFilter(3)), float) / 255.0 * 0.5 + m * 0.5
    press = np.asarray(Image.fromarray(rng.normal(128, 50, (max(2, h // 25), max(2, w // 25)))
                                       .clip(0, 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), float) / 255.0
    m = m * (0.80 + 0.25 * press)
    m = np.clip(m, 0, 1)

    paper, light = paper_and_light(rng, h, w)
    ink = np.array([30, 36, 72], float) + rng.uniform(-8, 8, 3)     # blue-black ballpoint
    ink_lit = ink[None, None, :] * (0.7 + 0.3 * light[..., None])
    img = paper * (1 - m[..., None]) + ink_lit * m[..., None]

    # dust specks: a few tiny dark/grey dots, never touching the letter
    keep_out = np.asarray(Image.fromarray((m > 0.05).astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(31)), bool)
    n_dust = int(rng.integers(2, 7))
    yy, xx = np.mgrid[0:h, 0:w]
    placed = 0
    for _ in range(200):
        if placed >= n_dust:
            break
        px, py = int(rng.integers(4, w - 4)), int(rng.integers(4, h - 4))
        if keep_out[py, px]:
            continue
        rad = rng.uniform(0.5, 1.5)
        dot = np.exp(-(((xx - px) ** 2 + ((yy - py) * rng.uniform(0.6, 1.4)) ** 2) / (2 * rad * rad)))
        img = img * (1 - rng.uniform(0.30, 0.65) * dot[..., None])
        placed += 1

    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.1)))       # optics / focus
    arr = np.asarray(out, float)
    arr = arr + rng.normal(0, rng.uniform(1.2, 2.2), arr.shape[:2])[..., None]  # sensor (luminance) noise
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=int(rng.integers(66, 75)), subsampling=2)
    buf.seek(0)
    return Image.open(buf).convert("RGB")   # decoded JPEG, stored as 8-bit RGB PNG


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("font", help="path to the Coming Soon font file (.woff2 / .ttf)")
    ap.add_argument("--out", default=os.path.join(HERE, "samples"), help="output folder")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args(argv)
    font = ImageFont.truetype(a.font, FONT_SIZE)
    os.makedirs(a.out, exist_ok=True)
    total = 0
    for i, ch in enumerate(CHARS):
        rng = np.random.default_rng([a.seed, ord(ch)])
        img = make_one(font, ch, rng)
        path = os.path.join(a.out, f"uni{ord(ch):04X}.png")
        img.save(path, optimize=True)
        total += os.path.getsize(path)
        print(f"{path}  {img.size[0]}x{img.size[1]}", file=sys.stderr)
    print(f"wrote {len(CHARS)} images, {total / 1024:.0f} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
