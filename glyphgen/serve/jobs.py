"""Builds and comparisons for the page, run one at a time by a worker thread.

A job is submitted with a function that does the work through a
:class:`~glyphgen.progress.Progress`; the worker runs jobs in the order they
came, so a second build waits in the queue while the page stays responsive (the
server's event loop never runs a job). Everything the job reports -- its stages
and their counts, the notes and lines a terminal would show, the one-sentence
error -- is kept on the job, so a page that reloads asks again and sees all of
it. Each job owns a folder that is deleted when the job is.

A thread, not a process: a build's tracing already fans out to processes of its
own, torch releases the interpreter while it computes, and the job's progress
is then plain shared memory.
"""

from __future__ import annotations

import itertools
import queue
import secrets
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glyphgen.errors import GlyphgenError
from glyphgen.progress import Progress

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
MOST_LINES = 200  # the lines a job keeps (notes first: those are never dropped)


class JobCancelled(BaseException):
    """Raised inside a cancelled job at its next progress report.

    A BaseException, like KeyboardInterrupt: ``compare`` records any Exception
    of one backend as that backend's failure and goes on with the next.
    """


@dataclass
class Stage:
    name: str
    total: int | None
    done: int = 0
    fields: dict[str, float | int | str] = field(default_factory=dict)
    finished: bool = False


@dataclass
class Job:
    id: str
    kind: str  # "build" or "compare"
    owner: str  # the workspace that asked for it
    title: str
    folder: Path
    work: Callable[[Path, Progress], dict[str, Any]]  # (folder, progress) -> the result the page shows
    number: int = 0  # order of submission
    state: str = QUEUED
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    stages: list[Stage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    version: int = 0  # counts changes: the event stream sends a snapshot when it moves
    cancel_asked: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self, position: int | None = None) -> dict[str, Any]:
        with self.lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "title": self.title,
                "state": self.state,
                "position": position,
                "submitted": self.submitted,
                "seconds": (self.finished or time.time()) - self.started if self.started else 0.0,
                "stages": [vars(stage).copy() for stage in self.stages],
                "notes": list(self.notes),
                "lines": list(self.lines),
                "error": self.error,
                "result": self.result,
                "version": self.version,
            }

    def changed(self) -> None:
        self.version += 1


class JobProgress(Progress):
    """What a job reports, kept on the job for the page; a cancelled job stops at its next report."""

    def __init__(self, job: Job):
        self.job = job
        self._open: list[Stage] = []

    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[JobProgress]:
        self._check()
        stage = Stage(description, total)
        with self.job.lock:
            self.job.stages.append(stage)
            self._open.append(stage)
            self.job.changed()
        try:
            yield self
        finally:
            with self.job.lock:
                stage.finished = True
                self._open.remove(stage)
                self.job.changed()

    def advance(self, steps: int = 1, **fields: object) -> None:
        self._check()
        if not self._open:
            return
        with self.job.lock:
            stage = self._open[-1]
            stage.done += steps
            stage.fields = {k: v if isinstance(v, int | float) else str(v) for k, v in fields.items()}
            self.job.changed()

    def log(self, message: str) -> None:
        self._keep(self.job.lines, message)

    def note(self, message: str) -> None:
        self._keep(self.job.notes, message)

    def _keep(self, kept: list[str], message: str) -> None:
        with self.job.lock:
            kept.append(message)
            del kept[:-MOST_LINES]
            self.job.changed()

    def _check(self) -> None:
        if self.job.cancel_asked:
            raise JobCancelled


class JobQueue:
    """Jobs in submission order, run one at a time by one worker thread."""

    def __init__(self, root: Path, explain: Callable[[Job, str], str] = lambda job, message: message):
        self.root = Path(root)
        self.explain = explain  # an error sentence as the page should say it (paths of the server's folders made plain)
        self._jobs: dict[str, Job] = {}
        self._waiting: queue.Queue[Job | None] = queue.Queue()
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._work, name="glyphgen-jobs", daemon=True)
        self._worker.start()

    def submit(self, kind: str, owner: str, title: str, work: Callable[[Path, Progress], dict[str, Any]], prepare: Callable[[Path], None] | None = None) -> Job:
        """Queue ``work``; ``prepare`` fills the job's folder first (a copy of the samples as they are now)."""
        job_id = secrets.token_urlsafe(12)
        folder = self.root / job_id
        folder.mkdir(parents=True)
        if prepare is not None:
            prepare(folder)
        job = Job(job_id, kind, owner, title, folder, work, number=next(self._numbers))
        with self._lock:
            self._jobs[job_id] = job
        self._waiting.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def of(self, owner: str) -> list[Job]:
        with self._lock:
            return sorted((job for job in self._jobs.values() if job.owner == owner), key=lambda job: job.number)

    def position(self, job: Job) -> int | None:
        """How many jobs run or wait before ``job`` (None once it runs)."""
        if job.state != QUEUED:
            return None
        with self._lock:
            return sum(1 for other in self._jobs.values() if other.number < job.number and other.state in (QUEUED, RUNNING))

    def snapshot(self, job: Job) -> dict[str, Any]:
        return job.snapshot(self.position(job))

    def cancel(self, job: Job) -> None:
        """A queued job never starts; a running one stops at its next progress report."""
        with job.lock:
            if job.state in FINISHED:
                return
            job.cancel_asked = True
            if job.state == QUEUED:
                job.state, job.finished = CANCELLED, time.time()
            job.changed()

    def forget(self, job: Job) -> None:
        """Drop a finished job and its folder (cancelling it first if it is not finished)."""
        self.cancel(job)
        with self._lock:
            self._jobs.pop(job.id, None)
        if job.state != RUNNING:
            shutil.rmtree(job.folder, ignore_errors=True)

    def finished_before(self, moment: float) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if job.state in FINISHED and (job.finished or 0) < moment]

    def close(self) -> None:
        """Cancel every job and stop the worker after the one it runs."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.cancel(job)
        self._waiting.put(None)

    def _work(self) -> None:
        while (job := self._waiting.get()) is not None:
            with job.lock:
                if job.state != QUEUED:
                    continue
                job.state, job.started = RUNNING, time.time()
                job.changed()
            state, error, result = DONE, None, {}
            try:
                result = job.work(job.folder, JobProgress(job))
            except JobCancelled:
                state = CANCELLED
            except GlyphgenError as exc:
                state, error = FAILED, self.explain(job, str(exc))
            except Exception as exc:  # a bug: the page says so in one line, the terminal keeps the traceback
                traceback.print_exc(file=sys.stderr)
                state, error = FAILED, f"glyphgen failed unexpectedly ({type(exc).__name__}: {exc}); the server's terminal shows the details."
            with job.lock:
                job.state, job.error, job.result, job.finished = state, error, result, time.time()
                job.changed()
            if self.get(job.id) is None:  # forgotten while it ran
                shutil.rmtree(job.folder, ignore_errors=True)
