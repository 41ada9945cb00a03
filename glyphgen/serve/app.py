"""The page's HTTP API: a Starlette app over the same library functions the command line calls.

    GET  /                              the page (glyphgen/serve/static)
    GET  /api/info                      charsets, backends, limits
    POST /api/workspaces                a new sample set for this browser
    GET  /api/w/{id}                    its samples, as the build will see them, and its jobs
    PUT  /api/w/{id}/charset            choose the charset
    POST /api/w/{id}/samples            an image (body) for ?char= or the character its ?name= names;
                                        ?em= the pixels per em of a drawing from the page's pad
    DELETE /api/w/{id}/samples/{code}   remove one
    POST /api/w/{id}/sheet              a photo of a filled template sheet (body)
    GET  /api/w/{id}/samples.zip        every sample, named as `glyphgen build --samples` reads them
    POST /api/w/{id}/builds             queue a build: {"backend", "family", "designer", "seed"}
    POST /api/w/{id}/compares           queue a comparison: {"backends": [...], "folds"}
    GET  /api/jobs/{id}                 a job's state; /events streams it (server-sent events)
    POST /api/jobs/{id}/cancel
    GET  /api/jobs/{id}/files/{kind}    ttf, otf, woff2, preview; report (a comparison's)

Bad input is a :class:`~glyphgen.errors.GlyphgenError`, answered as
``{"error": sentence}`` with status 400 (413 for a body over the limit), the
sentence the command line would print. Workspace and job ids are random, so one
browser never reaches another's samples; requests from other web sites are
refused (a page elsewhere could otherwise post to this port), and so are host
names other than the loopback ones unless the server was asked to share.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import math
import secrets
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from glyphgen import DEFAULT_BACKEND, __version__
from glyphgen.charset import CHARSETS, get_charset
from glyphgen.errors import GlyphgenError
from glyphgen.fontbuild import FontInfo

from .jobs import FINISHED, Job, JobQueue
from .workspace import Unnamed, Workspace, plain_name

STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # a phone photo of a sheet is 3-12 MB
DRAINED_AT_MOST = 4  # times the limit: how much of an oversized upload is read (and dropped) before the answer
KEEP_HOURS = 24.0
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
EVENT_EVERY = 0.3  # seconds between a running job's snapshots on its event stream
DEFAULT_COMPARED = ("reference", "retrieval", "pca", DEFAULT_BACKEND)


class TooLarge(GlyphgenError):
    pass


class Server:
    """What the routes share: the workspaces, the job queue and the loaded classifiers, under one temporary folder."""

    def __init__(self, root: Path, *, max_upload_bytes: int = MAX_UPLOAD_BYTES, keep_hours: float = KEEP_HOURS):
        self.root = Path(root)
        self.max_upload_bytes = max_upload_bytes
        self.keep_seconds = keep_hours * 3600.0
        self.workspaces: dict[str, Workspace] = {}
        self.jobs = JobQueue(self.root / "jobs", explain=self._plain)
        self._readers: dict[str, Any] = {}
        self._reader_lock = threading.Lock()

    def reader_of(self, script):
        """The content classifier of ``script``, loaded once."""
        from glyphgen.classifier import CharReader

        with self._reader_lock:
            if script.name not in self._readers:
                self._readers[script.name] = CharReader(script=script)
            return self._readers[script.name]

    def new_workspace(self) -> Workspace:
        workspace_id = secrets.token_urlsafe(16)
        workspace = Workspace(workspace_id, self.root / "workspaces" / workspace_id)
        self.workspaces[workspace_id] = workspace
        return workspace

    def workspace(self, workspace_id: str) -> Workspace:
        workspace = self.workspaces.get(workspace_id)
        if workspace is None:
            raise NotFound("these samples are no longer on the server (it restarted, or cleared them after a day unused); reload the page to start again.")
        workspace.touch()
        return workspace

    def job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound("this job is no longer on the server (it restarted, or cleared it after a day); build again.")
        return job

    def clear_old(self, now: float | None = None) -> None:
        """Forget the workspaces unused, and the jobs finished, longer ago than the time limit; their folders go too."""
        before = (now or time.time()) - self.keep_seconds
        for job in self.jobs.finished_before(before):
            self.jobs.forget(job)
        for workspace_id, workspace in list(self.workspaces.items()):
            if workspace.touched < before and not any(job.state not in FINISHED for job in self.jobs.of(workspace_id)):
                del self.workspaces[workspace_id]
                shutil.rmtree(workspace.folder, ignore_errors=True)

    def close(self) -> None:
        self.jobs.close()

    def _plain(self, job: Job, message: str) -> str:
        """An error sentence as the page says it: the job's copy of the samples is "your samples"."""
        samples = str(job.folder / "samples")
        return message.replace(samples + "/", "").replace(samples, "your samples").replace(str(job.folder / "font"), "the font folder")


class NotFound(GlyphgenError):
    pass


# -- the routes ------------------------------------------------------------------


def info(request: Request) -> Response:
    from glyphgen.backends import available_backends, starts_from_shipped_weights

    backends = [
        {
            "name": name,
            "family": cls.family,
            "pretrained": starts_from_shipped_weights(cls),
            "about": (sys.modules[cls.__module__].__doc__ or cls.__doc__ or "").strip().splitlines()[0],
        }
        for name, cls in available_backends().items()
    ]
    charsets = [{"name": name, "size": len(charset), "script": charset.script.name} for name, charset in sorted(CHARSETS.items())]
    guides = {name: pad_guides(charset.script.reference_font()) for name, charset in CHARSETS.items()}
    return JSONResponse(
        {
            "version": __version__,
            "backends": backends,
            "default_backend": DEFAULT_BACKEND,
            "compared": list(DEFAULT_COMPARED),
            "charsets": charsets,
            "guides": guides,
            "default_charset": Workspace.charset,
            "max_upload_bytes": request.app.state.server.max_upload_bytes,
        }
    )


@functools.cache
def pad_guides(reference: Path) -> dict[str, Any]:
    """The drawing pad's lines, in em, from the reference font: the writer draws at the size and height samples are placed at."""
    from fontTools.ttLib import TTFont

    with TTFont(reference, lazy=True) as font:
        em, os2 = font["head"].unitsPerEm, font["OS/2"]
        lines = {"baseline": 0.0, "x-height": os2.sxHeight / em, "cap height": os2.sCapHeight / em, "descender": os2.sTypoDescender / em}
    return {"top": lines["cap height"] + 0.3, "bottom": lines["descender"] - 0.12, "lines": lines}


def new_workspace(request: Request) -> Response:
    workspace = request.app.state.server.new_workspace()
    return JSONResponse({"id": workspace.id, "charset": workspace.charset}, status_code=201)


def workspace_state(request: Request) -> Response:
    server: Server = request.app.state.server
    workspace = server.workspace(request.path_params["workspace"])
    listing = workspace.listing(server.reader_of)
    jobs = [server.jobs.snapshot(job) for job in server.jobs.of(workspace.id)]
    return JSONResponse({"id": workspace.id, **listing, "jobs": jobs})


async def set_charset(request: Request) -> Response:
    workspace = request.app.state.server.workspace(request.path_params["workspace"])
    workspace.set_charset(str((await _json(request)).get("charset", "")))
    return JSONResponse({"charset": workspace.charset})


async def add_sample(request: Request) -> Response:
    server: Server = request.app.state.server
    workspace = server.workspace(request.path_params["workspace"])
    data = await _body(request, server.max_upload_bytes)
    char = request.query_params.get("char") or None
    name = request.query_params.get("name") or None
    em = _number(request.query_params.get("em"), "em")
    added = await asyncio.to_thread(workspace.add_sample, data, char=char, name=name, em=em)
    return JSONResponse({"char": added}, status_code=201)


def remove_sample(request: Request) -> Response:
    workspace = request.app.state.server.workspace(request.path_params["workspace"])
    code = request.path_params["code"]
    try:
        char = chr(int(code.removeprefix("U+").removeprefix("u+"), 16))
    except (ValueError, OverflowError):
        raise GlyphgenError(f"{code!r} is not a code point such as U+0041.") from None
    workspace.remove(char)
    return Response(status_code=204)


async def add_sheet(request: Request) -> Response:
    from .workspace import Notes

    server: Server = request.app.state.server
    workspace = server.workspace(request.path_params["workspace"])
    data = await _body(request, server.max_upload_bytes)
    notes = Notes()
    chars = await asyncio.to_thread(workspace.add_sheet, data, request.query_params.get("name") or "the sheet photo", notes)
    return JSONResponse({"chars": chars, "notes": notes.said}, status_code=201)


def samples_zip(request: Request) -> Response:
    workspace = request.app.state.server.workspace(request.path_params["workspace"])
    family = request.query_params.get("family") or "glyphgen"
    return Response(workspace.zipped(), media_type="application/zip", headers=_attachment(f"{family} samples.zip"))


async def start_build(request: Request) -> Response:
    from glyphgen.backends import get_backend
    from glyphgen.pipeline import BuildOptions, build_font, output_paths

    server: Server = request.app.state.server
    workspace = server.workspace(request.path_params["workspace"])
    asked = await _json(request)
    backend = str(asked.get("backend") or DEFAULT_BACKEND)
    get_backend(backend)  # an unknown backend is one sentence, before the job is queued
    info = FontInfo(family=str(asked.get("family") or "Glyphgen Hand"), style="Regular", designer=str(asked.get("designer") or "").strip() or None)
    seed = _whole(asked.get("seed", 0), "seed", 0, 2**32 - 1)
    charset = workspace.charset
    workspace.check_buildable()

    def work(folder: Path, progress) -> dict[str, Any]:
        options = BuildOptions(samples=folder / "samples", out=folder / "font", charset=charset, backend=backend, info=info, seed=seed)
        result = build_font(options, progress)
        return {
            "summary": result.summary(options),
            "family": info.family,
            "files": {kind: path.name for kind, path in output_paths(options.out, info).items()},
            "chars": "".join(get_charset(charset).inked_chars),
            "samples": "".join(result.sample_chars),
            "seconds": sum(result.timings.values()),
        }

    job = server.jobs.submit("build", workspace.id, f"{info.family} with {backend}", work, prepare=workspace.copy_samples)
    return JSONResponse(server.jobs.snapshot(job), status_code=202)


async def start_compare(request: Request) -> Response:
    from glyphgen.compare import compare_samples, resolve_backends
    from glyphgen.report import summary_row, write_report

    server: Server = request.app.state.server
    workspace = server.workspace(request.path_params["workspace"])
    asked = await _json(request)
    wanted = asked.get("backends") or list(DEFAULT_COMPARED)
    if not isinstance(wanted, list):
        raise GlyphgenError("backends: give a list of backend names.")
    names = resolve_backends([str(name) for name in wanted])
    folds = _whole(asked.get("folds", 3), "folds", 2, 10)
    charset = workspace.charset
    workspace.check_buildable()

    def work(folder: Path, progress) -> dict[str, Any]:
        comparison = compare_samples(folder / "samples", {name: {} for name in names}, charset=charset, folds=folds, progress=progress)
        write_report(comparison, folder / "report")
        best = comparison.best
        return {"best": best.backend if best else None, "runs": [summary_row(run) for run in comparison.ranked()], "files": {"report": "report.html"}}

    job = server.jobs.submit("compare", workspace.id, f"compare {', '.join(names)}", work, prepare=workspace.copy_samples)
    return JSONResponse(server.jobs.snapshot(job), status_code=202)


def job_state(request: Request) -> Response:
    server: Server = request.app.state.server
    return JSONResponse(server.jobs.snapshot(server.job(request.path_params["job"])))


async def job_events(request: Request) -> Response:
    """The job's snapshot whenever it changes, until it finishes: a page that reloads opens the stream again."""
    server: Server = request.app.state.server
    job = server.job(request.path_params["job"])

    async def stream():
        last = None
        while True:
            snapshot = server.jobs.snapshot(job)
            text = json.dumps(snapshot, allow_nan=False, default=str)
            if text != last:
                yield f"data: {text}\n\n"
                last = text
            if snapshot["state"] in FINISHED or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_EVERY)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def cancel_job(request: Request) -> Response:
    server: Server = request.app.state.server
    job = server.job(request.path_params["job"])
    server.jobs.cancel(job)
    return JSONResponse(server.jobs.snapshot(job))


MEDIA_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".woff2": "font/woff2", ".png": "image/png", ".html": "text/html; charset=utf-8"}


def job_file(request: Request) -> Response:
    """A finished job's file, by kind: the kinds the job named, nothing else (a path never comes from the request)."""
    server: Server = request.app.state.server
    job = server.job(request.path_params["job"])
    kind = request.path_params["kind"]
    name = job.result.get("files", {}).get(kind) if job.state == "done" else None
    if name is None:
        raise NotFound(f"this job has no {kind!r} file" + ("" if job.state == "done" else " yet") + ".")
    path = job.folder / ("report" if job.kind == "compare" else "font") / name
    inline = kind in ("report", "preview") or request.query_params.get("inline") == "1"
    headers = {"Cache-Control": "no-store"} if inline else _attachment(name)
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"), headers=headers)


# -- helpers ---------------------------------------------------------------------------


async def _body(request: Request, limit: int) -> bytes:
    """The request's body, whatever Content-Length claimed; refused once it passes ``limit`` bytes.

    Past the limit the rest is read and dropped (up to a point): a browser that
    is cut off mid-upload shows a network error, not the sentence.
    """
    name = plain_name(request.query_params.get("name") or "") or "the upload"
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > DRAINED_AT_MOST * limit:
            break
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise TooLarge(f"{name}: the file is larger than the {limit / 2**20:g} MB an upload may be; save it smaller.")
    if not size:
        raise GlyphgenError(f"{name}: the file is empty.")
    return b"".join(chunks)


async def _json(request: Request) -> dict[str, Any]:
    try:
        asked = json.loads(await _body(request, 64 * 1024))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise GlyphgenError("the request is not JSON.") from None
    if not isinstance(asked, dict):
        raise GlyphgenError("the request is not a JSON object.")
    return asked


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit() or not low <= int(value) <= high:
        raise GlyphgenError(f"{name} {value!r}: give a whole number from {low} to {high}.")
    return int(value)


def _number(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not math.isfinite(number):
        raise GlyphgenError(f"{name} {value!r}: give a number.")
    return number


def _attachment(name: str) -> dict[str, str]:
    """Content-Disposition for a download named ``name``, Unicode kept (RFC 6266), with an ASCII fallback."""
    from urllib.parse import quote

    fallback = "".join(c if c.isascii() and (c.isalnum() or c in " .-_") else "_" for c in name)
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"}


async def _refusing_errors(request: Request, exc: Exception) -> Response:
    status = 413 if isinstance(exc, TooLarge) else 404 if isinstance(exc, NotFound) else 400
    return JSONResponse({"error": str(exc), "needs_char": isinstance(exc, Unnamed)}, status_code=status)


class SameSiteOnly:
    """Refuse requests that did not come from this server's own page.

    Host: a loopback server answers only to loopback names, so a web site that
    rebinds its own name to 127.0.0.1 reaches nothing. Origin: a request that
    changes anything must come from a page of this origin.
    """

    def __init__(self, app: ASGIApp, shared: bool):
        self.app = app
        self.shared = shared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
            host = headers.get("host", "")
            origin = headers.get("origin")
            problem = None
            if not self.shared and urlsplit(f"//{host}").hostname not in LOOPBACK_NAMES:
                problem = f"this server answers only to 127.0.0.1 and localhost, not {host!r}."
            elif scope["method"] not in ("GET", "HEAD") and origin is not None and urlsplit(origin).netloc != host:
                problem = "requests from other web sites are refused."
            if problem:
                await JSONResponse({"error": problem}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(root: Path | None = None, *, shared: bool = False, max_upload_bytes: int = MAX_UPLOAD_BYTES, keep_hours: float = KEEP_HOURS) -> Starlette:
    """The page and its API; every file lives under ``root`` (a new temporary folder, removed on shutdown, when not given)."""
    import tempfile

    owned = root is None
    root = Path(tempfile.mkdtemp(prefix="glyphgen-serve-")) if owned else Path(root)
    server = Server(root, max_upload_bytes=max_upload_bytes, keep_hours=keep_hours)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async def clear_old_files():
            while True:
                await asyncio.sleep(60)
                await asyncio.to_thread(server.clear_old)

        janitor = asyncio.create_task(clear_old_files())
        try:
            yield
        finally:
            janitor.cancel()
            server.close()
            if owned:
                shutil.rmtree(root, ignore_errors=True)

    routes = [
        Route("/", lambda request: FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})),
        Route("/api/info", info),
        Route("/api/workspaces", new_workspace, methods=["POST"]),
        Route("/api/w/{workspace}", workspace_state),
        Route("/api/w/{workspace}/charset", set_charset, methods=["PUT"]),
        Route("/api/w/{workspace}/samples", add_sample, methods=["POST"]),
        Route("/api/w/{workspace}/samples/{code}", remove_sample, methods=["DELETE"]),
        Route("/api/w/{workspace}/sheet", add_sheet, methods=["POST"]),
        Route("/api/w/{workspace}/samples.zip", samples_zip),
        Route("/api/w/{workspace}/builds", start_build, methods=["POST"]),
        Route("/api/w/{workspace}/compares", start_compare, methods=["POST"]),
        Route("/api/jobs/{job}", job_state),
        Route("/api/jobs/{job}/events", job_events),
        Route("/api/jobs/{job}/cancel", cancel_job, methods=["POST"]),
        Route("/api/jobs/{job}/files/{kind}", job_file),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SameSiteOnly, shared=shared)],
        exception_handlers={GlyphgenError: _refusing_errors},
        lifespan=lifespan,
    )
    app.state.server = server
    return app
