"""WAL checkpoints on a thread of their own, out of the request path (ADR 0930).

SQLite's automatic checkpoint runs inside the commit of whichever write transaction takes
the WAL past 1 000 pages: that request pays 8-20 ms, once every 150-200 small writes, and
that alone set the p99 of single-event ingest and entitlement reservations. Here the
store's connections leave the automatic checkpoint to a much larger bound
(``FALLBACK_PAGES``, the writer's own checkpoint, kept only as a limit), and a thread with
its own connection runs a PASSIVE checkpoint every ``INTERVAL_SECONDS``. PASSIVE never
waits for a reader or the writer: it copies what no open snapshot still needs, and the
next writer then restarts the WAL from its beginning.

Durability is untouched: a commit is as durable as the WAL write (``PRAGMA synchronous``);
a checkpoint only copies committed pages into the database file.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

# Pages a busy WAL reaches before the thread's next pass is a few hundred (a 0.5 s tick at
# thousands of small commits a second); SQLite's own default trigger is 1 000.
INTERVAL_SECONDS = 0.5

# The bound: should the thread fall behind (a pass that cannot copy everything because
# readers hold old snapshots, or no thread at all, as in a short CLI command), the writer
# whose commit takes the WAL past this many pages checkpoints itself, as SQLite always did,
# so the WAL stays bounded (~40 MiB at 4 KiB pages) whatever the thread does.
FALLBACK_PAGES = 10_000


@dataclass(frozen=True, slots=True)
class CheckpointPass:
    """One ``PRAGMA wal_checkpoint`` answer: ``busy`` (1 if it could not finish), the WAL's
    pages when it ran and how many of them are now in the database file."""

    busy: int
    wal_pages: int
    checkpointed: int


class WalCheckpointer:
    """A thread running PASSIVE checkpoints on its own connection until stopped.

    Owned by the store (started by the app's lifespan, stopped with it or by ``close``);
    nothing global. A failed pass (the file locked by another process's checkpoint, a
    disk error) is retried at the next tick: checkpoints are never needed for correctness.
    """

    def __init__(self, database: str, *, interval_seconds: float = INTERVAL_SECONDS) -> None:
        self._database = database
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._passes = 0
        self._last: CheckpointPass | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it; its last pass, if any, completes first."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        thread.join()

    def next_pass(self) -> CheckpointPass | None:
        """Wake the thread and wait for the pass that follows (tests, operators)."""
        with self._wake:
            target = self._passes + 1
            self._wake.notify_all()
            while self._passes < target and self.running:
                self._wake.wait(self._interval)
            return self._last

    def _run(self) -> None:
        connection = sqlite3.connect(self._database, timeout=0, check_same_thread=False)
        try:
            # Never wait on a lock: a checkpoint that cannot run now runs at the next tick.
            connection.execute("PRAGMA busy_timeout=0")
            while not self._stop.is_set():
                result = checkpoint(connection, "PASSIVE")
                with self._wake:
                    self._passes += 1
                    self._last = result
                    self._wake.notify_all()
                    if not self._stop.is_set():
                        self._wake.wait(self._interval)
        finally:
            connection.close()


def checkpoint(connection: sqlite3.Connection, mode: str) -> CheckpointPass | None:
    """One checkpoint pass, or ``None`` when the database refused it this time."""
    try:
        row = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    except sqlite3.Error:
        return None
    return CheckpointPass(*row) if row else None
