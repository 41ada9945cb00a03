"""``glyphgen serve``'s API on a real server: uploads checked as the command line checks files, jobs queued, files served.

The page itself, in a browser, is tested in test_serve_browser.py.
"""

from __future__ import annotations

import io
import threading
import time
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from PIL import Image

from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.serve import bind
from glyphgen.serve.jobs import JobQueue
from glyphgen.validate import sanitize

from .serving import running_server

LIMIT = 2 * 1024 * 1024  # the test server's upload limit


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("serve"), max_upload_bytes=LIMIT) as server:
        yield server


def new_workspace(served, charset: str | None = None) -> str:
    workspace = served.call("POST", "/api/workspaces").json["id"]
    if charset:
        assert served.call("PUT", f"/api/w/{workspace}/charset", {"charset": charset}).status == 200
    return workspace


def png(char: str = "A", size: int = 120) -> bytes:
    """A character's image, as a writer's sample: dark ink on white."""
    from glyphgen.resources import reference_font

    from .conftest import draw_char

    buffer = io.BytesIO()
    Image.fromarray(draw_char(char, reference_font(), size)).save(buffer, "PNG")
    return buffer.getvalue()


def give(served, workspace: str, data: bytes, **query) -> object:
    from urllib.parse import urlencode

    return served.call("POST", f"/api/w/{workspace}/samples?{urlencode(query)}", data)


def files_under(folder) -> set[str]:
    return {path.name for path in folder.rglob("*") if path.is_file()}


# -- uploads ---------------------------------------------------------------------------


def test_samples_given_by_file_name_or_by_character_are_shown_placed_and_zipped(served, demo_folder):
    workspace = new_workspace(served)
    for path in sorted(demo_folder.iterdir())[:6]:
        assert give(served, workspace, path.read_bytes(), name=path.name).status == 201
    answer = give(served, workspace, png("c"), char="c")
    assert answer.status == 201 and answer.json == {"char": "c"}

    state = served.call("GET", f"/api/w/{workspace}").json
    shown = {sample["char"]: sample for sample in state["samples"]}
    assert len(shown) == 7 and "c" in shown
    assert all(sample["picture"].startswith("data:image/png;base64,") for sample in shown.values())
    assert any("too few" in note or "only 7 samples" in note for note in state["notes"]), state["notes"]

    zipped = served.call("GET", f"/api/w/{workspace}/samples.zip?family=%C5%81ukasz%20Hand")
    assert zipped.status == 200 and "filename*=UTF-8''%C5%81ukasz%20Hand%20samples.zip" in zipped.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(zipped.body)).namelist()
    assert sorted(n for n in names if n.startswith("samples/")) == sorted(f"samples/uni{ord(c):04X}.png" for c in shown)

    assert served.call("DELETE", f"/api/w/{workspace}/samples/U+0063").status == 204
    assert "c" not in {s["char"] for s in served.call("GET", f"/api/w/{workspace}").json["samples"]}


def test_a_drawing_is_kept_at_the_pixel_size_of_the_other_samples(served, demo_folder):
    """The set is placed with one scale, so a drawing from the pad (its em in pad pixels) is stored at the photos' size:
    the demo's n, drawn at a third of its size on the pad and given as a u, lands as tall as the n."""
    from glyphgen.canvas import Canvas
    from glyphgen.charset import get_charset
    from glyphgen.samples import load_samples
    from glyphgen.scripts import LATIN

    charset, canvas = get_charset("latin-core"), Canvas(128)
    demo = load_samples(demo_folder, charset, LATIN.reference_font(), canvas)
    px_per_em = canvas.units_per_em / demo.scale
    n = Image.open(demo_folder / "uni006E.png")
    small = io.BytesIO()
    n.resize((n.width // 3, n.height // 3), Image.Resampling.LANCZOS).save(small, "PNG")

    workspace = new_workspace(served)
    assert give(served, workspace, small.getvalue(), char="u", em=px_per_em / 3).status == 201  # drawn first: fitted later
    for path in demo_folder.iterdir():
        give(served, workspace, path.read_bytes(), name=path.name)
    placed = load_samples(served.root / "workspaces" / workspace / "samples", charset, LATIN.reference_font(), canvas)
    heights = {char: placed.samples[char].ink.shape[0] * placed.samples[char].units_per_px for char in "nu"}
    assert heights["u"] == pytest.approx(heights["n"], rel=0.05), heights
    shown = {s["char"]: s for s in served.call("GET", f"/api/w/{workspace}").json["samples"]}
    assert shown["u"]["name"] == "your drawing of 'u'" and shown["u"]["doubt"] in (None, "n")


def test_a_korean_sample_named_by_its_syllable_decomposed_is_taken(served):
    """A phone or a Mac may send 한.png as the jamo ᄒ ᅡ ᆫ: the name is read composed, as the command line reads it."""
    import unicodedata

    from glyphgen.resources import demo_samples

    workspace = new_workspace(served, "korean")
    path = next(demo_samples("korean").iterdir())
    syllable = chr(int(path.stem[3:], 16))
    answer = give(served, workspace, path.read_bytes(), name=unicodedata.normalize("NFD", f"{syllable}.png"))
    assert answer.status == 201 and answer.json == {"char": syllable}
    (sample,) = served.call("GET", f"/api/w/{workspace}").json["samples"]
    assert sample["char"] == syllable and sample["name"] == f"{syllable}.png" and sample["picture"]


def test_a_sample_labelled_as_another_character_is_flagged(served):
    workspace = new_workspace(served)
    for char in "HOnoaesbdp":
        give(served, workspace, png(char), char=char)
    give(served, workspace, png("k"), char="x")  # a k, labelled x
    samples = {s["char"]: s for s in served.call("GET", f"/api/w/{workspace}").json["samples"]}
    assert samples["x"]["doubt"] == "k"
    assert [char for char, s in samples.items() if s["doubt"]] == ["x"]


@pytest.mark.parametrize(
    "data, query, status, fragments",
    [
        (b"%PDF-1.4 not a drawing", {"name": "notes.pdf"}, 400, ["notes.pdf:", "not an image"]),
        (b"\x89PNG\r\n\x1a\n truncated", {"name": "uni0041.png"}, 400, ["uni0041.png:", "not an image"]),
        (None, {"name": "IMG_0042.png"}, 400, ["IMG_0042.png:", "names no character"]),
        (None, {"char": "ł"}, 400, ["U+0142", "not in the latin charset"]),
        (None, {"char": "ab"}, 400, ["'ab' is not one character"]),
        (bytes(LIMIT + 1), {"name": "huge.png"}, 413, ["huge.png:", "larger than the 2 MB"]),
        (b"", {"name": "empty.png"}, 400, ["empty.png:", "empty"]),
    ],
)
def test_a_bad_upload_gets_one_sentence_naming_it(served, data, query, status, fragments):
    workspace = new_workspace(served, "latin")
    answer = give(served, workspace, png() if data is None else data, **query)
    assert answer.status == status
    error = answer.json["error"]
    assert all(fragment in error for fragment in fragments), error
    assert error.count(". ") == 0 and "Traceback" not in error and str(served.root) not in error
    assert served.call("GET", f"/api/w/{workspace}").json["samples"] == []


def test_a_blank_image_is_refused_as_the_command_line_refuses_it(served):
    workspace = new_workspace(served)
    buffer = io.BytesIO()
    Image.new("L", (200, 200), 255).save(buffer, "PNG")
    answer = give(served, workspace, buffer.getvalue(), name="uni0041.png")
    assert answer.status == 400 and answer.json["error"] == "uni0041.png: no ink found; the image looks blank."


@pytest.mark.parametrize("name", ["../../A.png", "..\\..\\evil\\A.png", "/etc/A.png"])
def test_a_path_in_a_file_name_never_becomes_a_path(served, name):
    workspace = new_workspace(served)
    before = files_under(served.root.parent)
    answer = give(served, workspace, png("A"), name=name)
    assert answer.status == 201 and answer.json == {"char": "A"}
    (sample,) = served.call("GET", f"/api/w/{workspace}").json["samples"]
    assert sample["name"] == "A.png"
    assert files_under(served.root.parent) - before <= {"uni0041.png", "samples.json"}
    assert (served.root / "workspaces" / workspace / "samples" / "uni0041.png").is_file()


def test_a_photo_of_the_template_sheet_becomes_samples(served, tmp_path):
    from glyphgen.resources import library_fonts
    from glyphgen.scripts import LATIN
    from glyphgen.sheet import template_pages
    from glyphgen.synthetic import filled_sheet, photograph_sheet

    code = template_pages(LATIN.recommended_samples, "a4")[0]
    font = next(f for f in library_fonts() if f.name.startswith("ComicNeue"))
    page, _ = filled_sheet(code, LATIN, font, empty="k")
    buffer = io.BytesIO()
    photograph_sheet(page, np.random.default_rng(1)).convert("RGB").resize((1500, 2000)).save(buffer, "JPEG", quality=85)
    workspace = new_workspace(served)
    answer = served.call("POST", f"/api/w/{workspace}/sheet?name=IMG_2001.jpg", buffer.getvalue())
    assert answer.status == 201, answer.json
    expected = set(LATIN.recommended_samples) - {"k"}
    assert set(answer.json["chars"]) == expected
    assert any("left empty" in note for note in answer.json["notes"])
    assert {s["char"] for s in served.call("GET", f"/api/w/{workspace}").json["samples"]} == expected


def test_requests_from_other_sites_or_host_names_are_refused(served):
    workspace = new_workspace(served)
    answer = served.call("POST", f"/api/w/{workspace}/samples?char=A", png(), headers={"Origin": "http://evil.example"})
    assert answer.status == 403 and "other web sites" in answer.json["error"]
    answer = served.call("GET", "/api/info", headers={"Host": "rebound.example:8642"})
    assert answer.status == 403 and "only to 127.0.0.1 and localhost" in answer.json["error"]
    assert served.call("GET", f"/api/w/{workspace}", headers={"Origin": served.url}).status == 200


def test_unknown_workspaces_jobs_and_files_are_one_sentence(served):
    assert "reload the page" in served.call("GET", "/api/w/nothing-here").json["error"]
    assert served.call("GET", "/api/jobs/nothing-here").status == 404
    workspace = new_workspace(served)
    answer = served.call("POST", f"/api/w/{workspace}/builds", {"backend": "no-such-model"})
    assert answer.status == 400 and "no such backend" in answer.json["error"]
    answer = served.call("POST", f"/api/w/{workspace}/builds", {"seed": -3})
    assert answer.status == 400 and "seed -3" in answer.json["error"]


# -- jobs ---------------------------------------------------------------------------


def test_a_build_streams_progress_then_serves_fonts_that_pass_the_sanitizer(served, demo_folder, tmp_path):
    workspace = new_workspace(served, "latin")
    for path in demo_folder.iterdir():
        give(served, workspace, path.read_bytes(), name=path.name)
    job = served.call("POST", f"/api/w/{workspace}/builds", {"backend": "retrieval", "family": "민지 손글씨", "designer": "김민지"}).json
    assert job["state"] in ("queued", "running")

    events = served.call("GET", f"/api/jobs/{job['id']}/events")  # the stream ends when the job does
    snapshots = [line.removeprefix("data: ") for line in events.body.decode().splitlines() if line.startswith("data: ")]
    import json

    states = [json.loads(s)["state"] for s in snapshots]
    assert states[-1] == "done" and "running" in states, states
    done = json.loads(snapshots[-1])
    assert [stage["name"] for stage in done["stages"]][:2] == ["read", "match"]
    assert "30 glyphs from your samples" in done["result"]["summary"]
    for kind in ("ttf", "otf", "woff2"):
        answer = served.call("GET", f"/api/jobs/{job['id']}/files/{kind}")
        assert answer.status == 200 and "attachment" in answer.headers["content-disposition"]
        path = tmp_path / done["result"]["files"][kind]
        path.write_bytes(answer.body)
        assert sanitize(path) == [], kind
    names = TTFont(tmp_path / done["result"]["files"]["ttf"])["name"]
    assert names.getDebugName(1) == "민지 손글씨" and names.getDebugName(9) == "김민지"
    preview = served.call("GET", f"/api/jobs/{job['id']}/files/preview")
    assert Image.open(io.BytesIO(preview.body)).size[0] > 500
    assert served.call("GET", f"/api/jobs/{job['id']}/files/..%2F..%2Fsamples.json").status == 404


def test_a_comparison_of_models_on_the_writers_own_samples_is_reported(served, demo_folder):
    workspace = new_workspace(served, "latin")
    for path in demo_folder.iterdir():
        give(served, workspace, path.read_bytes(), name=path.name)
    job = served.call("POST", f"/api/w/{workspace}/compares", {"backends": ["reference", "retrieval"], "folds": 2}).json
    done = served.wait(job["id"])
    assert done["state"] == "done", done["error"]
    runs = {run["backend"]: run for run in done["result"]["runs"]}
    assert set(runs) == {"reference", "retrieval"} and all(0 < run["iou"] < 1 for run in runs.values())
    assert done["result"]["best"] in runs
    report = served.call("GET", f"/api/jobs/{job['id']}/files/report")
    assert report.status == 200 and report.headers["content-type"].startswith("text/html") and b"retrieval" in report.body


def test_a_failed_build_says_why_in_one_sentence_without_server_paths(served, demo_folder):
    workspace = new_workspace(served)
    for path in sorted(demo_folder.iterdir())[:2]:
        give(served, workspace, path.read_bytes(), name=path.name)
    job = served.call("POST", f"/api/w/{workspace}/builds", {"backend": "retrieval"}).json
    failed = served.wait(job["id"])
    assert failed["state"] == "failed"
    assert failed["error"].startswith("your samples: 2 samples are too few"), failed["error"]
    assert str(served.root) not in failed["error"]


def test_a_second_job_waits_in_the_queue_and_a_cancelled_one_never_runs(tmp_path):
    started = threading.Event()
    release = threading.Event()
    ran = []

    def slow(folder, progress):
        with progress.stage("train", total=100):
            started.set()
            while not release.is_set():
                progress.advance(1, loss=0.5)
                time.sleep(0.01)
        ran.append("slow")
        return {}

    def quick(folder, progress):
        ran.append("quick")
        return {"answer": 42}

    jobs = JobQueue(tmp_path)
    first = jobs.submit("build", "me", "slow", slow)
    second = jobs.submit("build", "me", "quick", quick)
    third = jobs.submit("build", "me", "never", quick)
    started.wait(10)
    assert jobs.snapshot(second)["position"] == 1 and jobs.snapshot(third)["position"] == 2
    assert jobs.snapshot(first)["stages"][0]["fields"] == {"loss": 0.5}
    jobs.cancel(third)
    release.set()
    deadline = time.monotonic() + 10
    while second.state != "done" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ran == ["slow", "quick"] and second.result == {"answer": 42} and third.state == "cancelled"
    jobs.close()


def test_a_running_job_stops_at_its_next_progress_report_when_cancelled(tmp_path):
    def endless(folder, progress):
        with progress.stage("train", total=None):
            while True:
                progress.advance()
                time.sleep(0.01)

    def refused(folder, progress):
        raise GlyphgenError(f"{folder / 'samples'}: 2 samples are too few to build a font from.")

    jobs = JobQueue(tmp_path, explain=lambda job, message: message.replace(str(job.folder / "samples"), "your samples"))
    running = jobs.submit("build", "me", "endless", endless)
    failing = jobs.submit("build", "me", "refused", refused)
    while running.state != "running":
        time.sleep(0.01)
    jobs.cancel(running)
    deadline = time.monotonic() + 10
    while failing.state not in ("failed", "done") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.state == "cancelled"
    assert failing.state == "failed" and failing.error == "your samples: 2 samples are too few to build a font from."
    jobs.forget(failing)
    assert not failing.folder.exists() and jobs.get(failing.id) is None
    jobs.close()


def test_old_workspaces_and_jobs_are_cleared_with_their_files(tmp_path):
    from glyphgen.serve.app import Server

    server = Server(tmp_path, keep_hours=1)
    workspace = server.new_workspace()
    job = server.jobs.submit("build", workspace.id, "t", lambda folder, progress: {})
    while job.state != "done":
        time.sleep(0.01)
    server.clear_old(now=time.time() + 1800)
    assert workspace.folder.exists() and job.folder.exists()
    server.clear_old(now=time.time() + 3 * 3600)
    assert not workspace.folder.exists() and not job.folder.exists()
    with pytest.raises(GlyphgenError, match="reload the page"):
        server.workspace(workspace.id)
    server.close()


# -- the command ---------------------------------------------------------------------


def test_serve_refuses_a_port_in_use_in_one_sentence():
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    result = CliRunner().invoke(main, ["serve", "--port", str(port), "--no-browser"])
    taken.close()
    assert result.exit_code == 2
    assert result.output.strip() == f"error: --port {port}: another program listens there; choose another port, or --port 0 for any free one."


def test_serve_warns_when_it_shares_the_page_on_the_network(monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)  # start, say, and stop at once
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "0", "--no-browser"])
    assert result.exit_code == 0, result.output
    assert "glyphgen serve: http://127.0.0.1:" in result.output
    assert "warning: listening on 0.0.0.0, not only on this computer" in result.output
    quiet = CliRunner().invoke(main, ["serve", "--port", "0", "--no-browser"])
    assert "warning" not in quiet.output
