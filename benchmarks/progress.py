"""Progress display: a rich bar in a terminal, plain timestamped lines otherwise (CI, pytest).

Plain mode prints at most one line per ~5 s per task, so a log stays readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter:
    """``task(label, total)`` yields an ``update(done)`` callable; ``log`` prints one line."""

    def __init__(self, *, quiet: bool = False, force_plain: bool = False) -> None:
        self.quiet = quiet
        self.fancy = sys.stderr.isatty() and not force_plain and not quiet
        self.console = Console(stderr=True, highlight=False, width=None if self.fancy else 240)

    def log(self, message: str) -> None:
        if self.quiet:
            return
        if self.fancy:
            self.console.print(message)
        else:
            print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        if self.quiet:
            yield lambda _done: None
            return
        if self.fancy:
            with Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            ) as bar:
                task_id = bar.add_task(label, total=total)
                yield lambda done: bar.update(task_id, completed=done)
            return
        last = [time.monotonic(), -1]

        def update(done: int) -> None:
            now = time.monotonic()
            if done != last[1] and (now - last[0] >= 5 or done >= total):
                last[0], last[1] = now, done
                self.log(f"{label}: {done}/{total}")

        self.log(f"{label}: started ({total})")
        yield update
