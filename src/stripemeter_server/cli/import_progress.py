"""Import progress: a rich bar with events/s in a terminal, plain lines otherwise (CI, pipes)."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn

from stripemeter_server.service.ingest.history_import import ImportTally

LINE_EVERY_SECONDS = 5.0


class ImportProgress:
    def __init__(self, name: str, terminal: bool) -> None:
        self._name = name
        self._started = time.monotonic()
        self._last_line = self._started
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if terminal:
            self._bar = Progress(
                TextColumn(f"import {name}"),
                TextColumn("{task.completed} lines"),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )

    def __enter__(self) -> ImportProgress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("import", total=None, detail="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, tally: ImportTally) -> None:
        now = time.monotonic()
        rate = tally.lines / max(now - self._started, 1e-6)
        detail = (
            f"{tally.accepted} accepted, {tally.duplicates} duplicates, "
            f"{len(tally.refused)} rejected, {rate:,.0f} events/s"
        )
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=tally.lines, detail=detail)
        elif now - self._last_line >= LINE_EVERY_SECONDS:
            self._last_line = now
            print(
                f"import {self._name}: {tally.lines} lines, {detail}", file=sys.stderr, flush=True
            )
