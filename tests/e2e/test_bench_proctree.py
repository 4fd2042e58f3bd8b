"""The run-queue figure of ``benchmarks/proctree.py`` (ADR 0987): how long a process's
threads waited for a core, read from ``schedstat``."""

from __future__ import annotations

import os
import threading

from benchmarks.proctree import run_queue_seconds


def test_the_main_threads_wait_is_part_of_all_threads_wait() -> None:
    done = threading.Event()
    worker = threading.Thread(target=done.wait)
    worker.start()
    try:
        main = run_queue_seconds(os.getpid(), main_only=True)
        every = run_queue_seconds(os.getpid())
    finally:
        done.set()
        worker.join()
    assert 0 <= main <= every


def test_a_process_gone_has_waited_nothing() -> None:
    assert run_queue_seconds(2**22 + 12345) == 0.0  # above the kernel's pid_max
