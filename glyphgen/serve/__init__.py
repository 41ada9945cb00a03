"""``glyphgen serve``: a page in the browser to give samples, watch the font being made, type with it and download it.

Everything runs on the person's own machine: the server binds to the loopback
address unless asked to share, and the page (``static/``: plain HTML, CSS and
JavaScript, no CDN) loads nothing from elsewhere. The server holds no pipeline
of its own: a build is :func:`glyphgen.pipeline.build_font`, a comparison
:func:`glyphgen.compare.compare_samples`, a sheet :func:`glyphgen.samples.extract_boxes`.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import tempfile
import threading
import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from glyphgen.errors import GlyphgenError

DEFAULT_PORT = 8642


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: any free port); a port in use or a bad address is one sentence."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise GlyphgenError(f"--port {port}: another program listens there; choose another port, or --port 0 for any free one.") from None
        raise GlyphgenError(f"--host {host}: cannot listen there ({exc.strerror or exc}).") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, open_browser: bool = True, keep_hours: float = 24.0, say=print) -> None:
    """Serve the page until interrupted (Ctrl-C); its files are deleted then."""
    import uvicorn

    from .app import create_app

    shared = not is_loopback(host)
    sock = bind(host, port)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown_host + ']' if ':' in shown_host else shown_host}:{sock.getsockname()[1]}/"
    say(f"glyphgen serve: {url}  (Ctrl-C to stop; samples and fonts are kept {keep_hours:g} hours while it runs, then deleted)")
    if shared:
        say(
            f"warning: listening on {host}, not only on this computer: anyone who can reach it on your network can use the page, "
            "see the samples given there and download the fonts."
        )
    with tempfile.TemporaryDirectory(prefix="glyphgen-serve-") as root:  # every sample and font of the session, gone when it ends
        app = create_app(Path(root), shared=shared, keep_hours=keep_hours)
        config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2, lifespan="on")
        if open_browser:
            threading.Timer(0.5, webbrowser.open, args=(url,)).start()
        uvicorn.Server(config).run(sockets=[sock])


@contextmanager
def serving_in_thread(root: Path, **options) -> Iterator[str]:
    """The app (``create_app(root, **options)``) served on a free loopback port in a thread until the block ends: its URL.

    For tests and benchmarks, which drive the real server over HTTP.
    """
    import uvicorn

    from .app import create_app

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(root, **options), log_level="warning", access_log=False, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
