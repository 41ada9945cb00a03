"""A real ``glyphgen serve`` server in a thread, and a plain HTTP client for it (the page's tests)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glyphgen.serve import serving_in_thread


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Served:
    url: str
    root: Path

    def call(self, method: str, path: str, body: bytes | dict | None = None, headers: dict[str, str] | None = None) -> Answer:
        headers = dict(headers or {})
        if isinstance(body, dict):
            body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def wait(self, job_id: str, timeout: float = 300.0, until: tuple[str, ...] = ("done", "failed", "cancelled")) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.call("GET", f"/api/jobs/{job_id}").json
            if job["state"] in until:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s: {job}")


@contextmanager
def running_server(root: Path, **options) -> Iterator[Served]:
    """``create_app(root, **options)`` served by uvicorn on a free loopback port until the block ends."""
    with serving_in_thread(root, **options) as url:
        yield Served(url, Path(root))
