"""The page in a real browser: Debian's Chromium, driven by Playwright, against a real server.

A writer's whole visit: upload the demo samples, draw one more character with
the pointer, build, and type in the type tester, whose text must be set in the
new font -- its measured width is the font's own advance widths, not the
fallback font's -- then download the files and check them.

Chromium comes from the system (``make browser`` installs Debian's package;
nothing downloads a browser of its own). Without one these tests skip, unless
GLYPHGEN_REQUIRE_BROWSER is set, as CI sets it: there a missing browser fails.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from glyphgen.validate import sanitize

from .serving import running_server

CHROMIUM = os.environ.get("GLYPHGEN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# What Chromium needs to run headless as root in a container, and to not reach for Google's servers at every start.
CHROMIUM_ARGS = [
    *("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"),
    *("--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"),
]
TESTED_TEXT = "Hamburgefonstiv 2025"
# The README's pictures (GLYPHGEN_SCREENSHOTS=docs) show a default build; the suite builds the fastest way.
SCREENSHOTS = os.environ.get("GLYPHGEN_SCREENSHOTS")
CHARSET, BACKEND = ("latin-core", "fewshot") if SCREENSHOTS else ("latin", "retrieval")
SIZE = 48  # px of the tester's text when it is measured


def _browser_or_skip():
    if CHROMIUM is None:
        if os.environ.get("GLYPHGEN_REQUIRE_BROWSER"):
            pytest.fail("no Chromium found (GLYPHGEN_REQUIRE_BROWSER is set): run `make browser`, or set GLYPHGEN_CHROMIUM to its path.")
        pytest.skip("no Chromium on this machine: `make browser` installs Debian's")
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    playwright_api = _browser_or_skip()
    with running_server(tmp_path_factory.mktemp("served")) as served, playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.served = served
        page.goto(served.url)
        page.wait_for_selector("body[data-ready=yes]")
        yield page
        browser.close()


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Strokes on the drawing pad with the mouse: real pointer events, at fractions of the pad's size."""
    box = page.locator("#pad").bounding_box()
    for stroke in strokes:
        (x, y), *rest = stroke
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4)
        page.mouse.up()


def test_a_writer_uploads_draws_builds_types_and_downloads(page, demo_folder, tmp_path):
    page.select_option("#charset", CHARSET)
    page.fill("#family", "Łukasz Hand")
    demo = sorted(demo_folder.iterdir())
    page.set_input_files("#files", [str(path) for path in demo])
    page.wait_for_function(f"document.querySelectorAll('#samples .card').length === {len(demo)}")

    # A lowercase x, drawn: two crossing strokes from the x-height line down to the baseline.
    top, bottom = page.evaluate("() => { const g = guides(); return [g.rowOf(g.script.lines['x-height']), g.rowOf(0)].map(r => r / 360); }")
    page.fill("#draw-char", "x")
    draw(page, [[(0.36, top), (0.5, (top + bottom) / 2), (0.64, bottom)], [(0.64, top), (0.5, (top + bottom) / 2), (0.36, bottom)]])
    page.click("#pad-save")
    page.wait_for_selector('#samples .card[data-char="x"] img')
    assert page.locator("#samples .card").count() == len(demo) + 1
    assert page.locator("#message").is_hidden()
    assert page.locator("#samples .card.doubted").count() == 0, page.locator("#samples .card.doubted").all_inner_texts()

    page.select_option("#backend", BACKEND)
    page.click("#build-button")
    page.wait_for_selector("#build-jobs .job.running, #build-jobs .job.done", timeout=60_000)
    page.wait_for_selector("#result:not([hidden])", timeout=300_000)
    assert "31 glyphs from your samples" in page.inner_text("#result-summary")
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    if SCREENSHOTS:
        page.evaluate("() => { document.querySelector('#preview').hidden = true; }")  # the README shows the preview on its own
        for section, name in (("#give", "serve-samples.png"), ("#result", "serve-font.png")):
            path = Path(SCREENSHOTS) / name
            page.locator(section).screenshot(path=path)
            Image.open(path).convert("RGB").quantize(64).save(path, optimize=True)
        page.evaluate("() => { document.querySelector('#preview').hidden = false; }")

    # Downloads, named after the family, each a valid font.
    saved = {}
    for kind in ("ttf", "otf", "woff2", "preview", "samples"):
        with page.expect_download() as download:
            page.click(f"#get-{kind}")
        saved[kind] = tmp_path / download.value.suggested_filename
        download.value.save_as(saved[kind])
    assert saved["ttf"].name == "LukaszHand-Regular.ttf"
    for kind in ("ttf", "otf", "woff2"):
        assert sanitize(saved[kind]) == [], kind
    assert Image.open(saved["preview"]).width > 500
    assert saved["samples"].name == "Łukasz Hand samples.zip"
    zipped = zipfile.ZipFile(saved["samples"]).namelist()
    assert "samples/uni0078.png" in zipped and len([n for n in zipped if n.startswith("samples/")]) == len(demo) + 1

    # The type tester sets what is typed in the new font: its width is the font's advances, not the fallback's.
    page.fill("#size", str(SIZE))
    page.dispatch_event("#size", "input")
    page.locator("#tester").fill(TESTED_TEXT)
    measured = page.evaluate(
        """() => {
          const tester = document.querySelector('#tester');
          tester.style.fontKerning = 'none';  // the sum of advances, without the kern pairs
          const range = document.createRange();
          range.selectNodeContents(tester);
          const inFont = range.getBoundingClientRect().width;
          const family = tester.style.fontFamily;
          tester.style.fontFamily = 'sans-serif';
          const fallback = range.getBoundingClientRect().width;
          tester.style.fontFamily = family;
          return {inFont, fallback, text: tester.innerText, loaded: document.fonts.check(`16px ${family.split(',')[0]}`)};
        }"""
    )
    assert measured["text"] == TESTED_TEXT and measured["loaded"]
    font = TTFont(saved["ttf"])
    cmap, advances = font.getBestCmap(), font["hmtx"].metrics
    expected = sum(advances[cmap[ord(char)]][0] for char in TESTED_TEXT) * SIZE / font["head"].unitsPerEm
    assert measured["inFont"] == pytest.approx(expected, abs=1.0), measured
    assert abs(measured["fallback"] - expected) > 5, measured

    # The glyph grid shows every character, the writer's own tinted.
    written = page.locator("#glyphs span.sample").all_inner_texts()
    assert sorted(written) == sorted([chr(int(p.stem[3:], 16)) for p in demo] + ["x"])


def test_models_are_compared_on_the_page(page, demo_folder):
    if page.locator("#samples .card").count() < 10:  # run alone (pytest -k)
        page.set_input_files("#files", [str(path) for path in sorted(demo_folder.iterdir())])
        page.wait_for_function("document.querySelectorAll('#samples .card').length >= 30")
    for box in page.locator("#compare-backends input").all():
        box.uncheck()
    page.check('#compare-backends input[value="reference"]')
    page.check('#compare-backends input[value="retrieval"]')
    page.select_option("#folds", "2")
    page.click("#compare-button")
    page.wait_for_selector("#report:not([hidden])", timeout=300_000)
    table = page.inner_text("#compare-jobs .job.done table")
    assert "reference" in table and "retrieval" in table and "★" in table
    frame = page.frame_locator("#report")
    assert "retrieval" in frame.locator("body").inner_text()


def test_a_second_build_waits_and_progress_survives_a_reload(page):
    """Two builds: the second waits in the queue. After a reload (the workspace id is in localStorage) the
    samples and both jobs are back, the running one still streaming its stages; both are cancelled."""
    cards = page.locator("#samples .card").count()
    page.click("#build-button")
    page.wait_for_selector("#build-jobs .job.running", timeout=60_000)
    page.click("#build-button")
    page.wait_for_selector("#build-jobs .job.queued")
    assert "waiting (1 ahead)" in page.inner_text("#build-jobs .job.queued")

    page.reload()
    page.wait_for_selector("body[data-ready=yes]")
    assert page.locator("#samples .card").count() == cards > 0
    running = page.locator("#build-jobs .job.running")
    running.locator(".stage").first.wait_for()
    shown = running.inner_text()
    page.wait_for_function("shown => document.querySelector('#build-jobs .job.running').innerText !== shown", arg=shown)  # still streaming
    page.click("#build-jobs .job.queued button")  # Cancel
    running.locator("button", has_text="Cancel").click()
    page.wait_for_function("document.querySelectorAll('#build-jobs .job.cancelled').length === 2", timeout=60_000)
    assert page.locator("#build-jobs .job.running, #build-jobs .job.queued").count() == 0


def test_a_file_named_for_no_character_is_asked_about_and_a_bad_one_is_said(page, tmp_path, reference):
    from .conftest import draw_char

    photo = tmp_path / "IMG_0042.png"
    Image.fromarray(draw_char("v", reference)).save(photo)
    bad = tmp_path / "uni0041.png"
    bad.write_bytes(b"not a picture at all")
    page.set_input_files("#files", [str(photo), str(bad)])
    page.wait_for_selector("#unnamed li")
    page.wait_for_function("document.querySelector('#message').textContent.startsWith('uni0041.png')")
    assert "IMG_0042.png: which character is it?" in page.inner_text("#unnamed li")
    assert page.inner_text("#message") == "uni0041.png: not an image glyphgen reads (PNG, JPEG, BMP or TIFF)."
    page.fill("#unnamed li input", "v")
    page.click("#unnamed li button")
    page.wait_for_selector('#samples .card[data-char="v"]')
    assert page.locator("#unnamed li").count() == 0


def test_a_pens_pressure_widens_the_stroke(page):
    """Pointer events from a pen: a light stroke and a hard one, the hard one at least twice as thick on the pad."""
    thickness = page.evaluate(
        """() => {
          const pad = document.querySelector('#pad');
          const box = pad.getBoundingClientRect();
          const send = (type, x, y, pressure) => pad.dispatchEvent(new PointerEvent(type, {
            pointerId: 7, pointerType: 'pen', isPrimary: true, bubbles: true, pressure,
            clientX: box.left + x * box.width, clientY: box.top + y * box.height, buttons: type === 'pointerup' ? 0 : 1,
          }));
          const stroke = (y, pressure) => {
            send('pointerdown', 0.2, y, pressure);
            for (let x = 0.2; x <= 0.8; x += 0.05) send('pointermove', x, y, pressure);
            send('pointerup', 0.8, y, 0);
          };
          document.querySelector('#pad-clear').click();
          stroke(0.3, 0.1);
          stroke(0.6, 1.0);
          drawPad(false);  // the ink alone, as it is sent
          const context = pad.getContext('2d');
          const column = context.getImageData(pad.width / 2, 0, 1, pad.height).data;
          const inked = (from, to) => { let n = 0; for (let row = from; row < to; row++) n += column[4 * row + 3] > 127; return n; };
          const result = [inked(0, pad.height * 0.45), inked(pad.height * 0.45, pad.height)];
          document.querySelector('#pad-clear').click();
          return result;
        }"""
    )
    light, hard = thickness
    assert light >= 1 and hard >= 2 * light, thickness


def test_the_page_loads_nothing_from_elsewhere(page):
    """Offline: every resource of the page comes from the server itself."""
    urls = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(url.startswith(page.served.url) or url.startswith("data:") or url.startswith("blob:") for url in urls), urls
    html = io.StringIO(Path(__file__).resolve().parents[1].joinpath("glyphgen/serve/static/index.html").read_text())
    assert "http" not in html.getvalue().replace("http-equiv", "")
