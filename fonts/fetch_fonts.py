#!/usr/bin/env python3
"""Rebuild fonts/reference, fonts/library and fonts/library-korean from the package registries.

Sources (ordinary clients only, nothing else is downloaded):
  * Debian bookworm:  apt-get download fonts-noto-core   (then dpkg-deb -x)
  * npm:              npm pack @fontsource/<id>@<version>  (then tar xzf)

Each font is converted to a plain sfnt (.ttf for glyf outlines, .otf for CFF),
subset with the fontTools subsetter to the project code point list
(no hinting, no layout features, .notdef outline kept, name table kept),
checked for non-empty outlines and written with its license text and a
manifest entry (library only).

Usage (needs: pip install fonttools brotli; npm; apt-get/dpkg-deb):
    python fonts/fetch_fonts.py                      # downloads into a temp dir
    python fonts/fetch_fonts.py --workdir /tmp/ff    # reuse downloads there
    python fonts/fetch_fonts.py --check-names FILE   # also fail if any family
                                                     # listed in FILE (one name
                                                     # a line) shows up in fonts/

`apt-get update` must have been run once for apt-get download to work.
The build is deterministic (head.modified is not touched), so the sha256
values in library/manifest.json are reproducible for the pinned versions.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from fontTools import subset
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

HERE = os.path.dirname(os.path.abspath(__file__))


def charset_dir():
    """glyphgen's charset data files: beside fonts/ in a checkout, in the package when installed."""
    for candidate in (os.path.join(HERE, "..", "glyphgen", "charsets"), os.path.join(HERE, "..", "charsets")):
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
    raise SystemExit("glyphgen's charsets/ folder is missing")


def read_charset(name, folder=None):
    """The code points of charsets/<name>.txt in order (format: charsets/README.md).

    This script runs without glyphgen installed, so it reads the files itself; the
    format is small on purpose, and tests/test_charset.py checks both readers agree.
    """
    folder = folder or charset_dir()
    codepoints = []
    with open(os.path.join(folder, name + ".txt"), encoding="utf-8") as fh:
        words = [word for line in fh for word in line.split("#", 1)[0].split()]
    while words:
        word = words.pop(0)
        if word == "include":
            codepoints += read_charset(words.pop(0), folder)
            continue
        m = re.fullmatch(r"U\+([0-9A-Fa-f]{4,6})(?:\.\.U\+([0-9A-Fa-f]{4,6}))?", word)
        if not m:
            raise SystemExit(f"{name}.txt: cannot read {word!r}")
        codepoints += range(int(m.group(1), 16), int(m.group(2) or m.group(1), 16) + 1)
    return codepoints


# The fonts are subset to glyphgen's latin-1 charset (read from its data file, so the
# ranges are written once) plus what text set in them commonly holds beyond it and
# glyphgen does not generate: en and em dash, curly quotes, bullet, ellipsis, euro sign.
TYPOGRAPHIC_EXTRAS = [0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2026, 0x20AC]
CODEPOINTS = read_charset("latin-1") + TYPOGRAPHIC_EXTRAS
# The reference also has every letter a writer may write in a Latin charset (latin-vietnamese holds them all;
# its combining marks, drawn like their spacing accents, are never written), so a written ł is placed as Noto's is.
# Noto Sans 2.004 lacks U+2212 MINUS SIGN, which glyphgen makes from the hyphen anyway.
REFERENCE_CODEPOINTS = CODEPOINTS + [cp for cp in read_charset("latin-vietnamese") if cp not in CODEPOINTS and not 0x300 <= cp <= 0x36F]
BLANK_OK = {0x20, 0xA0}  # spaces legitimately have no outline
REQUIRED_LIBRARY = [cp for cp in read_charset("latin") if cp not in BLANK_OK]  # A-Z a-z 0-9 + printable ASCII punctuation

REFERENCE = {
    "deb": "fonts-noto-core",
    "deb_version": "20201225-1",
    "path": "usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "out": "NotoSans-Regular.ttf",
}

# All OFL-1.1 / Apache-2.0 without Reserved Font Names (we subset = modify them).
# npm id, pinned fontsource version, style, expected PostScript name.
# "fix_names": the fontsource static 400 file was instanced from a variable font and
# still carries the default-instance name (e.g. "ShantellSansLight-Regular"); the
# outlines are weight 400, so the name IDs 1/3/4/6 are corrected to the Regular name.
LIBRARY = [
    {"npm": "noto-serif", "version": "5.3.0", "style": "serif", "ps": "NotoSerif-Regular"},
    {"npm": "arvo", "version": "5.3.0", "style": "slab", "ps": "Arvo"},
    {"npm": "courier-prime", "version": "5.3.0", "style": "mono", "ps": "CourierPrime-Regular"},
    {"npm": "nunito", "version": "5.3.0", "style": "rounded", "ps": "Nunito-Regular", "fix_names": ("Nunito", "Nunito-Regular")},
    {"npm": "comic-neue", "version": "5.3.0", "style": "casual", "ps": "ComicNeue-Regular"},
    {"npm": "shantell-sans", "version": "5.3.0", "style": "marker", "ps": "ShantellSans-Regular", "fix_names": ("Shantell Sans", "ShantellSans-Regular")},
    {"npm": "sedgwick-ave", "version": "5.3.0", "style": "marker", "ps": "SedgwickAve-Regular"},
    {"npm": "playpen-sans", "version": "5.3.0", "style": "handwriting", "ps": "PlaypenSans-Regular"},
    {"npm": "delicious-handrawn", "version": "5.3.0", "style": "handwriting", "ps": "DeliciousHandrawn-Regular"},
    {"npm": "itim", "version": "5.3.0", "style": "handwriting", "ps": "Itim-Regular"},
    {"npm": "sriracha", "version": "5.3.0", "style": "handwriting", "ps": "Sriracha-Regular"},
    {"npm": "chilanka", "version": "5.3.0", "style": "handwriting", "ps": "Chilanka-Regular"},
    {"npm": "mali", "version": "5.3.0", "style": "handwriting", "ps": "Mali-Regular"},
    {"npm": "yomogi", "version": "5.3.0", "style": "handwriting", "ps": "Yomogi-Regular"},
    {"npm": "zen-kurenaido", "version": "5.3.0", "style": "handwriting", "ps": "ZenKurenaido-Regular"},
    {"npm": "klee-one", "version": "5.3.0", "style": "handwriting", "ps": "KleeOne-Regular"},
    {"npm": "yellowtail", "version": "5.3.0", "style": "brush", "ps": "Yellowtail-Regular"},
    {"npm": "bad-script", "version": "5.3.0", "style": "script", "ps": "BadScript-Regular"},
]


def run(cmd, cwd):
    print("+", " ".join(cmd), f"(in {cwd})", file=sys.stderr)
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"command failed: {' '.join(cmd)}")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()


def nonempty(font, cp):
    cmap = font.getBestCmap()
    if cp not in cmap:
        return False
    gs = font.getGlyphSet()
    pen = BoundsPen(gs)
    gs[cmap[cp]].draw(pen)
    return pen.bounds is not None


def fix_names(font, family, psname):
    name = font["name"]
    old_ps = name.getDebugName(6)
    for rec in list(name.names):
        if rec.nameID in (16, 17, 21, 22):
            name.removeNames(nameID=rec.nameID)
    for rec in name.names:
        if rec.nameID == 1:
            rec.string = family
        elif rec.nameID == 2:
            rec.string = "Regular"
        elif rec.nameID == 4:
            rec.string = f"{family} Regular"
        elif rec.nameID == 6:
            rec.string = psname
        elif rec.nameID == 3 and old_ps:
            rec.string = rec.toUnicode().replace(old_ps, psname)
    if "STAT" in font:  # refers to the variable font's axes; meaningless for a static instance
        del font["STAT"]


def subset_font(src, dst_dir, stem, rename=None, codepoints=CODEPOINTS):
    font = TTFont(src, recalcTimestamp=False)
    font.flavor = None
    opts = subset.Options()
    opts.layout_features = []
    opts.hinting = False
    opts.notdef_outline = True
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.name_legacy = True
    opts.glyph_names = False
    sub = subset.Subsetter(opts)
    wanted = [cp for cp in codepoints if cp in font.getBestCmap()]
    sub.populate(unicodes=wanted)
    sub.subset(font)
    if rename:
        fix_names(font, *rename)
    ext = ".otf" if "CFF " in font or "CFF2" in font else ".ttf"
    out = os.path.join(dst_dir, stem + ext)
    font.save(out)
    return out


def build_reference(work, out_dir):
    debdir = os.path.join(work, "debs")
    os.makedirs(debdir, exist_ok=True)
    debs = glob.glob(os.path.join(debdir, f"{REFERENCE['deb']}_*.deb"))
    if not debs:
        run(["apt-get", "download", f"{REFERENCE['deb']}={REFERENCE['deb_version']}"], debdir)
        debs = glob.glob(os.path.join(debdir, f"{REFERENCE['deb']}_*.deb"))
    root = os.path.join(work, "x", REFERENCE["deb"])
    if not os.path.isdir(root):
        os.makedirs(root)
        run(["dpkg-deb", "-x", debs[0], root], work)
    ref_dir = os.path.join(out_dir, "reference")
    os.makedirs(ref_dir, exist_ok=True)
    out = subset_font(os.path.join(root, REFERENCE["path"]), ref_dir, "NotoSans-Regular", codepoints=REFERENCE_CODEPOINTS)
    f = TTFont(out)
    # Every one of the project's code points; of the writable letters beyond them, all Noto has (it has no U+2212).
    wanted = CODEPOINTS + [cp for cp in REFERENCE_CODEPOINTS[len(CODEPOINTS) :] if cp in f.getBestCmap()]
    bad = [f"U+{cp:04X}" for cp in wanted if cp not in BLANK_OK and not nonempty(f, cp)]
    if bad:
        raise SystemExit(f"reference font lacks outlines for {bad}")
    # License: the OFL-1.1 paragraph of the package's DEP-5 copyright file, with the
    # font's own copyright line (name ID 0) on top.
    cr = open(os.path.join(root, "usr/share/doc", REFERENCE["deb"], "copyright"), encoding="utf-8").read()
    m = re.search(r"^License: OFL-1\.1\n((?: .*\n?)+)", cr, re.M)
    body = "\n".join("" if ln.strip() == "." else ln[1:] for ln in m.group(1).rstrip("\n").split("\n"))
    copyright_line = f["name"].getDebugName(0)
    text = (
        f"{copyright_line}\n"
        "(Debian fonts-noto-core copyright file: 2010,2012-2020 Google Inc.; 2015-2020 Google LLC.)\n\n"
        "This Font Software is licensed under the SIL Open Font License, Version 1.1.\n"
        "This license is copied below, and is also available with a FAQ at:\n"
        "https://openfontlicense.org\n\n"
        "-----------------------------------------------------------\n"
        "SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007\n"
        "-----------------------------------------------------------\n\n"
        f"{body}\n"
    )
    with open(os.path.join(ref_dir, "OFL.txt"), "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"reference: {out} ({os.path.getsize(out)} bytes), {len(wanted)} code points verified")


# The Korean reference: Noto Sans KR's Hangul syllables (all 11,172, so `korean-full` has
# content for every one) merged under the Latin reference above, so the Latin glyphs of a
# Korean build come from the very font the Latin models were trained on.
KOREAN_REFERENCE = {"npm": "noto-sans-kr", "version": "5.3.0", "out": "NotoSansKR-Hangul.ttf", "ps": "NotoSansKR-Hangul"}
HANGUL_SYLLABLES = range(0xAC00, 0xD7A4)


def build_korean_reference(work, out_dir):
    from fontTools.merge import Merger

    npmdir = os.path.join(work, "npm")
    os.makedirs(npmdir, exist_ok=True)
    npm_id, ver = KOREAN_REFERENCE["npm"], KOREAN_REFERENCE["version"]
    pkg = npm_package(npmdir, npm_id, ver)
    meta = json.load(open(os.path.join(pkg, "metadata.json"), encoding="utf-8"))
    if meta["license"]["type"] != "OFL-1.1":
        raise SystemExit(f"{npm_id}: unexpected license {meta['license']['type']}")
    ref_dir = os.path.join(out_dir, "reference")
    latin = os.path.join(ref_dir, REFERENCE["out"])
    if not os.path.exists(latin):
        raise SystemExit(f"{latin} is missing: build the Latin reference first")
    hangul = TTFont(os.path.join(pkg, "files", f"{npm_id}-korean-400-normal.woff2"), recalcTimestamp=False)
    hangul.flavor = None
    opts = subset.Options()
    opts.layout_features = []
    opts.hinting = False
    opts.notdef_outline = True
    opts.glyph_names = False
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=list(HANGUL_SYLLABLES))
    sub.subset(hangul)
    for name in ("GSUB", "GPOS", "GDEF", "vhea", "vmtx", "STAT"):
        if name in hangul:
            del hangul[name]
    latin_font = TTFont(latin, recalcTimestamp=False)
    if latin_font["head"].unitsPerEm != hangul["head"].unitsPerEm:
        raise SystemExit("the Latin and Hangul references differ in units per em")
    with tempfile.TemporaryDirectory() as scratch:
        part = os.path.join(scratch, "hangul.ttf")
        hangul.save(part)
        merged = Merger().merge([latin, part])  # the first font wins where both map a code point
    fix_names(merged, "Noto Sans KR Hangul", KOREAN_REFERENCE["ps"])
    # The merge stamps the time; the Latin reference's dates keep the build reproducible.
    merged["head"].created, merged["head"].modified = latin_font["head"].created, latin_font["head"].modified
    merged.recalcTimestamp = False
    out = os.path.join(ref_dir, KOREAN_REFERENCE["out"])
    merged.save(out)
    f = TTFont(out)
    bad = [f"U+{cp:04X}" for cp in list(CODEPOINTS) + list(HANGUL_SYLLABLES) if cp not in BLANK_OK and not nonempty(f, cp)]
    if bad:
        raise SystemExit(f"Korean reference font lacks outlines for {len(bad)} code points, e.g. {bad[:5]}")
    lic_text = open(os.path.join(pkg, "LICENSE"), encoding="utf-8").read()
    with open(os.path.join(ref_dir, "NotoSansKR-OFL.txt"), "w", encoding="utf-8") as fh:
        fh.write(f"{hangul['name'].getDebugName(0)}\n(npm:@fontsource/{npm_id}@{ver}; merged under Noto Sans, OFL.txt)\n\n{lic_text}")
    print(f"reference: {out} ({os.path.getsize(out)} bytes), {len(CODEPOINTS) + len(HANGUL_SYLLABLES)} code points verified")


def npm_package(npmdir, npm_id, ver):
    """The unpacked ``package/`` folder of ``@fontsource/<npm_id>@<ver>``, packed and unpacked once under ``npmdir``."""
    tgz = os.path.join(npmdir, f"fontsource-{npm_id}-{ver}.tgz")
    if not os.path.exists(tgz):
        run(["npm", "pack", f"@fontsource/{npm_id}@{ver}"], npmdir)
    pkg = os.path.join(npmdir, npm_id)
    if not os.path.isdir(pkg):
        os.makedirs(pkg)
        run(["tar", "xzf", tgz, "-C", pkg], npmdir)
    return os.path.join(pkg, "package")


def build_npm_library(work, lib_dir, fonts, subset_name, codepoints, required):
    """Subset each of ``fonts`` (npm @fontsource packages) from its ``subset_name`` file into ``lib_dir``,
    check every ``required`` code point has an outline, and write the licenses and ``manifest.json``."""
    npmdir = os.path.join(work, "npm")
    os.makedirs(npmdir, exist_ok=True)
    lic_dir = os.path.join(lib_dir, "licenses")
    os.makedirs(lic_dir, exist_ok=True)
    manifest = []
    for item in fonts:
        npm_id, ver = item["npm"], item["version"]
        pkg = npm_package(npmdir, npm_id, ver)
        meta = json.load(open(os.path.join(pkg, "metadata.json"), encoding="utf-8"))
        lic = meta["license"]["type"]
        if lic not in ("OFL-1.1", "Apache-2.0"):
            raise SystemExit(f"{npm_id}: unexpected license {lic}")
        src = os.path.join(pkg, "files", f"{npm_id}-{subset_name}-400-normal.woff2")
        rename = item.get("fix_names")
        out = subset_font(src, lib_dir, item["ps"], rename=rename, codepoints=codepoints)
        f = TTFont(out)
        ps = f["name"].getDebugName(6)
        if ps != item["ps"]:
            raise SystemExit(f"{npm_id}: PostScript name {ps!r}, expected {item['ps']!r}")
        missing = [chr(cp) for cp in required if not nonempty(f, cp)]
        if missing:
            raise SystemExit(f"{npm_id}: no outline for {len(missing)} required code points, e.g. {''.join(missing[:20])!r}")
        n_cov = sum(1 for cp in codepoints if cp in BLANK_OK or nonempty(f, cp))
        lic_text = open(os.path.join(pkg, "LICENSE"), encoding="utf-8").read()
        if lic == "Apache-2.0":  # fontsource ships the bare Apache text: add the font's notice
            lic_text = f"{f['name'].getDebugName(0)}\n\nLicensed under the Apache License, Version 2.0 (text below).\n\n" + lic_text
        with open(os.path.join(lic_dir, ps + ".txt"), "w", encoding="utf-8") as fh:
            fh.write(lic_text)
        manifest.append(
            {
                "file": os.path.basename(out),
                "family": f["name"].getDebugName(1),
                "style": item["style"],
                "license": lic,
                "source": f"npm:@fontsource/{npm_id}@{ver}",
                "sha256": sha256(out),
            }
        )
        coverage = f"{n_cov}/{len(codepoints)} code points, {os.path.getsize(out)} bytes"
        print(f"{os.path.basename(lib_dir)}: {os.path.basename(out):32s} {item['style']:12s} {lic:10s} {coverage}")
    with open(os.path.join(lib_dir, "manifest.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")


def build_library(work, out_dir):
    # The 'latin' subset file covers U+0000-00FF, U+2000-206F and U+20AC: every code point we keep.
    build_npm_library(work, os.path.join(out_dir, "library"), LIBRARY, "latin", CODEPOINTS, REQUIRED_LIBRARY)


# The Korean retrieval library: fonts of clearly different styles, subset to glyphgen's `korean`
# charset (printable ASCII + the 2,350 KS X 1001 syllables). A fontsource `korean` file holds the
# whole font (its Latin included), so no slices need merging. None is a held-out family, and none
# is the font of a bundled demo sample set. Every one needs an outline for every syllable and
# every ASCII letter and digit; ASCII punctuation a font lacks falls back like any missing glyph.
KOREAN_CODEPOINTS = read_charset("korean")
REQUIRED_KOREAN_LIBRARY = [cp for cp in KOREAN_CODEPOINTS if cp >= 0x80 or chr(cp).isalnum()]
KOREAN_LIBRARY = [
    {"npm": "song-myung", "version": "5.2.8", "style": "serif", "ps": "SongMyung-Regular"},
    {"npm": "jua", "version": "5.3.0", "style": "rounded", "ps": "Jua-Regular"},
    {"npm": "stylish", "version": "5.2.8", "style": "pen", "ps": "Stylish-Regular"},
    {"npm": "dongle", "version": "5.2.7", "style": "handwriting", "ps": "Dongle-Regular"},
    {"npm": "black-han-sans", "version": "5.2.8", "style": "display", "ps": "BlackHanSans-Regular"},
]


def build_korean_library(work, out_dir):
    build_npm_library(work, os.path.join(out_dir, "library-korean"), KOREAN_LIBRARY, "korean", KOREAN_CODEPOINTS, REQUIRED_KOREAN_LIBRARY)


def check_names(out_dir, names_file):
    names = [ln.strip() for ln in open(names_file, encoding="utf-8") if ln.strip() and not ln.startswith("#")]
    pats = set()
    for n in names:
        pats |= {n.lower(), n.lower().replace(" ", ""), n.lower().replace(" ", "-")}
    hits = []
    for dp, _, fns in os.walk(out_dir):
        for fn in fns:
            p = os.path.join(dp, fn)
            if fn.endswith(".md"):
                continue
            blob = open(p, "rb").read()
            try:  # also look inside UTF-16BE name records
                texts = [blob.decode("latin-1").lower(), blob.decode("utf-16-be", "ignore").lower()]
            except Exception:
                texts = [blob.decode("latin-1").lower()]
            texts.append(fn.lower())
            for pat in pats:
                if any(re.search(r"(?<![a-z])" + re.escape(pat) + r"(?![a-z])", t) for t in texts):
                    hits.append((p, pat))
    if hits:
        for p, pat in hits:
            print(f"NAME HIT: {pat!r} in {p}", file=sys.stderr)
        raise SystemExit("listed family names found under fonts/")
    print(f"name check: none of {len(names)} listed families found under {out_dir}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE, help="fonts/ directory to write (default: this script's folder)")
    ap.add_argument("--workdir", help="download/unpack directory (default: a temporary directory)")
    ap.add_argument("--check-names", metavar="FILE", help="family names that must not appear under --out")
    ap.add_argument("--only", choices=["reference", "library", "library-korean"])
    a = ap.parse_args()
    tmp = None
    work = a.workdir
    if not work:
        tmp = tempfile.mkdtemp(prefix="glyphgen-fonts-")
        work = tmp
    os.makedirs(work, exist_ok=True)
    try:
        if a.only in (None, "reference"):
            build_reference(work, a.out)
            build_korean_reference(work, a.out)
        if a.only in (None, "library"):
            build_library(work, a.out)
        if a.only in (None, "library-korean"):
            build_korean_library(work, a.out)
        if a.check_names:
            check_names(a.out, a.check_names)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
