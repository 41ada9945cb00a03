"""Progress reporting for long stages, decoupled from any terminal library.

The library reports through a :class:`Progress`; the CLI passes a
:class:`RichProgress` (a bar with ETA on a terminal, silence otherwise), tests
and library callers get the silent base class.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Progress:
    """Silent progress: the interface every stage reports through."""

    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[Progress]:
        yield self

    def advance(self, steps: int = 1, **fields: object) -> None:
        """Record ``steps`` units of work; ``fields`` (e.g. ``loss=0.3``) may be shown."""

    def log(self, message: str) -> None:
        """A line worth keeping above the bars (a stage's result); shown on a terminal only."""

    def note(self, message: str) -> None:
        """Something the user must know about what they gave (a file skipped, an image out of scale):
        shown wherever the output goes, a terminal, a log or a pipe."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        pass


class RichProgress(Progress):
    """A rich progress display: one bar per stage with elapsed time and ETA."""

    def __init__(self, console=None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.progress import Progress as Bars

        self.console = console or Console(stderr=True)
        self._bars = Bars(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.console,
            disable=not self.console.is_terminal,
            transient=False,
        )
        self._stack: list = []  # task ids of the open stages, innermost last

    def __enter__(self) -> RichProgress:
        self._bars.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bars.__exit__(*exc)

    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[RichProgress]:
        """A bar for this stage; stages nest (``compare`` > a backend's ``train``), ``advance`` moves the innermost."""
        task_id = self._bars.add_task(description, total=total, info="")
        self._stack.append(task_id)
        try:
            yield self
        finally:
            self._stack.remove(task_id)
            total = next(t.total for t in self._bars.tasks if t.id == task_id)
            self._bars.update(task_id, completed=total if total is not None else 1, total=total or 1)

    def advance(self, steps: int = 1, **fields: object) -> None:
        if self._stack:
            info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
            self._bars.update(self._stack[-1], advance=steps, info=info)

    def log(self, message: str) -> None:
        if self.console.is_terminal:
            self._bars.console.print(message)

    def note(self, message: str) -> None:
        self._bars.console.print(f"note: {message}", markup=False, highlight=False, soft_wrap=True)


class LogProgress(Progress):
    """Plain lines for logs (a background training run): the stage, count and fields every ``every`` seconds."""

    def __init__(self, stream=None, every: float = 60.0):
        import sys

        self.stream = stream or sys.stderr
        self.every = every
        self._stage = ""
        self._done = 0
        self._total: int | None = None
        self._last = 0.0

    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[LogProgress]:
        import time

        self._stage, self._done, self._total, self._last = description, 0, total, time.monotonic()
        self._print(f"{description}: started")
        yield self
        self._print(f"{description}: done ({self._done})")

    def advance(self, steps: int = 1, **fields: object) -> None:
        import time

        self._done += steps
        if time.monotonic() - self._last >= self.every:
            self._last = time.monotonic()
            info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
            self._print(f"{self._stage}: {self._done}/{self._total or '?'}  {info}")

    def log(self, message: str) -> None:
        self._print(message)

    def note(self, message: str) -> None:
        self._print(f"note: {message}")

    def _print(self, line: str) -> None:
        import time

        print(f"{time.strftime('%H:%M:%S')} {line}", file=self.stream, flush=True)
