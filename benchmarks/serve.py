"""How the page's server answers while it works: uploads, the sample listing, and requests during a build.

    python benchmarks/serve.py [--backend retrieval] [--charset latin-core] [--polls 200]

A real server (``glyphgen.serve.serving_in_thread``) gets the bundled demo hand
as a browser sends it, one image per request; then a build runs on its worker
thread while the page's two requests -- a job's state and the workspace's
listing -- are timed over and over. The build's own time is set beside the same
build run directly (``glyphgen.pipeline.build_font``): what serving costs it.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from glyphgen.fontbuild import FontInfo
from glyphgen.pipeline import BuildOptions, build_font
from glyphgen.resources import demo_samples
from glyphgen.serve import serving_in_thread


def call(url: str, method: str = "GET", body: bytes | None = None, json_body: dict | None = None) -> tuple[float, dict]:
    """Seconds the request took, and its JSON answer."""
    headers = {}
    if json_body is not None:
        body, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method=method, headers=headers), timeout=120) as response:
        answer = json.loads(response.read() or b"{}")
    return time.perf_counter() - started, answer


def milliseconds(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{1000 * statistics.median(ordered):.0f} | {1000 * p95:.0f} | {1000 * ordered[-1]:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="retrieval")
    parser.add_argument("--charset", default="latin-core")
    parser.add_argument("--polls", type=int, default=200, help="at most this many timed requests of each kind during the build")
    args = parser.parse_args()
    demo = sorted(demo_samples().iterdir())

    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        build_font(BuildOptions(samples=demo_samples(), out=Path(scratch) / "direct", charset=args.charset, backend=args.backend, info=FontInfo()))
        direct = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as root, serving_in_thread(Path(root)) as url:
        _, made = call(f"{url}/api/workspaces", "POST")
        workspace = f"{url}/api/w/{made['id']}"
        call(f"{workspace}/charset", "PUT", json_body={"charset": args.charset})
        uploads = [call(f"{workspace}/samples?name={path.name}", "POST", path.read_bytes())[0] for path in demo]
        first_listing, _ = call(workspace)  # loads the classifier and reads every image
        listings = [call(workspace)[0] for _ in range(5)]

        _, job = call(f"{workspace}/builds", "POST", json_body={"backend": args.backend, "family": "Bench"})
        polls, during = [], []
        while len(polls) < args.polls:
            seconds, state = call(f"{url}/api/jobs/{job['id']}")
            polls.append(seconds)
            if state["state"] in ("done", "failed", "cancelled"):
                break
            during.append(call(workspace)[0])
            time.sleep(0.05)
        while state["state"] not in ("done", "failed", "cancelled"):
            time.sleep(0.2)
            _, state = call(f"{url}/api/jobs/{job['id']}")
        if state["state"] != "done":
            sys.exit(f"the build {state['state']}: {state['error']}")

    print(f"glyphgen serve on the demo hand ({len(demo)} samples), {args.charset}, {args.backend}\n")
    print("| request | count | median ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|")
    print(f"| upload one sample | {len(uploads)} | {milliseconds(uploads)} |")
    print(f"| list the samples, first (classifier loads) | 1 | {milliseconds([first_listing])} |")
    print(f"| list the samples, again | {len(listings)} | {milliseconds(listings)} |")
    print(f"| a job's state, during the build | {len(polls)} | {milliseconds(polls)} |")
    print(f"| list the samples, during the build | {len(during)} | {milliseconds(during)} |")
    print(f"\nbuild: {state['seconds']:.1f} s on the page's worker, {direct:.1f} s run directly")


if __name__ == "__main__":
    main()
