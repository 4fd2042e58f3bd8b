"""CPU time and peak memory of a server process and its children, from ``/proc``.

``serve --workers N`` is a supervising process plus N HTTP worker processes, so every figure
is taken over the whole tree: CPU is summed (user + system of each live process, read before
and after a phase), peak RSS is the largest single process (what the < 300 MB target is
about) and, separately, the largest sum over the tree seen by a 50 ms poller.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it (via ``/proc/<pid>/task/*/children``)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError, ValueError):
                queue.extend(int(child) for child in task.read_text().split())
    return found


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (from /proc/<pid>/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its live descendants (the HTTP workers under ``--workers``)."""
    return sum(process_cpu_seconds(p) for p in descendants(pid))


def proc_kb(pid: int, field: str) -> int | None:
    """A ``kB`` field (``VmRSS``, ``VmHWM``) of ``/proc/<pid>/status``."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssProbe:
    """Peak resident memory of a process tree between ``reset()`` and ``peak_mb()``.

    The kernel's ``VmHWM`` (reset per phase by writing ``5`` to ``/proc/<pid>/clear_refs``;
    we own the processes) gives each process's exact peak; a poller adds the tree's sum.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._polled_kb = 0
        self._polled_total_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            sizes = [proc_kb(p, "VmRSS") or 0 for p in descendants(self.pid)]
            self._polled_kb = max(self._polled_kb, max(sizes, default=0))
            self._polled_total_kb = max(self._polled_total_kb, sum(sizes))

    def reset(self) -> None:
        self._polled_kb = self._polled_total_kb = 0
        for pid in descendants(self.pid):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/clear_refs", "w") as fh:
                fh.write("5")

    def peak_mb(self) -> float:
        """The largest single process's peak, in MB."""
        hwm = max((proc_kb(p, "VmHWM") or 0 for p in descendants(self.pid)), default=0)
        return round(max(hwm, self._polled_kb) / 1024, 1)

    def peak_total_mb(self) -> float:
        """The largest sum over the tree the poller saw, in MB."""
        return round(self._polled_total_kb / 1024, 1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


def run_queue_seconds(pid: int, *, main_only: bool = False) -> float:
    """How long the threads of ``pid`` (its main thread alone, the event loop's, with
    ``main_only``) have waited for a core so far: the second field of each thread's
    ``/proc/<pid>/task/<tid>/schedstat`` (ADR 0987). A server's loop that waits for a core
    serves nobody meanwhile; on a shared machine that wait, not the server's own work, is
    what a read's p99 follows."""
    tasks = [Path(f"/proc/{pid}/task/{pid}")] if main_only else Path(f"/proc/{pid}/task").glob("*")
    waited = 0
    for task in tasks:
        with contextlib.suppress(OSError, ValueError, IndexError):
            waited += int((task / "schedstat").read_text().split()[1])
    return waited / 1e9
