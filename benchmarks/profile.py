"""Where the server's time goes during ingest: py-spy samples a fresh ``serve``.

Usage: ``python -m benchmarks.profile [--database sqlite|postgres] [--seconds 20]
[--events 200000] [--top 25] [--single] [--gil] [--native] [--replay] [--keep FILE]``

Starts a server as ``make bench`` does (one process), drives it with the headline batch load
(500 events x 4 clients, one sum metric, 10 000 customers) and records it with
``py-spy record --pid`` (install py-spy from PyPI into the venv; it needs ptrace rights
over the server, which a process started by this user has). Prints the frames that hold the
largest share of the samples: ``total`` = the frame is on the stack, ``self`` = it is the
innermost frame. ``--keep FILE`` saves the collapsed stacks (for a flame graph tool).
``--single`` drives it with one-event requests over 16 connections instead; ``--gil`` keeps
only samples of the thread holding the GIL, so threads waiting for it (the event loop while
the group-commit writer runs, and the other way round) do not show as busy.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.loadgen import Request, run_load
from benchmarks.progress import Reporter
from benchmarks.scenarios import INGEST, create_metrics
from benchmarks.server import Postgres, Server
from benchmarks.workload import bodies, generate


def _frame(raw: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``: lines vary between runs."""
    name, _, where = raw.partition(" (")
    module = where.rsplit("/", 1)[-1].split(":", 1)[0].rstrip(")")
    return f"{name} ({module})" if module else name


def summarise(collapsed: str, top: int, *, by_self: bool = False) -> list[tuple[str, float, float]]:
    """(frame, total share, self share) for the ``top`` frames by total (or self) share."""
    totals: Counter[str] = Counter()
    selfs: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [_frame(f) for f in stack.split(";")]
        for frame in set(frames):
            totals[frame] += count
        selfs[frames[-1]] += count
    if not samples:
        return []
    ranked = selfs if by_self else totals
    return [
        (frame, totals[frame] / samples, selfs[frame] / samples)
        for frame, _ in ranked.most_common(top)
    ]


def _profile(url: str, workdir: Path, args: argparse.Namespace) -> str:
    reporter = Reporter(force_plain=True)
    server = Server(url, workdir)
    try:
        create_metrics(server)
        events = generate("profile", args.events, 10_000, seed=9)
        size, clients = (1, 16) if args.single else (500, 4)
        requests = [Request("POST", INGEST, body, n) for body, n in bodies(events, size)]
        raw = workdir / "profile.txt"
        if args.replay:  # store them first, unsampled: the sampled load is all duplicates
            first = run_load(server.port, server.key, requests, clients=clients, time_limit=120)
            requests = [requests[i] for i in first.completed]
        spy = subprocess.Popen(
            [
                _py_spy(),
                "record",
                "--pid",
                str(server.proc.pid),
                "--format",
                "raw",
                "--output",
                str(raw),
                "--duration",
                str(args.seconds),
                "--rate",
                "200",
                *(["--gil"] if args.gil else []),
                *(["--native"] if args.native else ["--nonblocking"]),  # native must pause it
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        load = run_load(server.port, server.key, requests, clients=clients, time_limit=args.seconds)
        _, err = spy.communicate(timeout=args.seconds + 60)
        reporter.log(
            f"{load.events} events in {load.wall_s:.1f} s "
            f"({load.events / max(load.wall_s, 1e-9):,.0f} events/s) while sampling"
        )
        if not raw.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        if args.keep:
            shutil.copy(raw, args.keep)
        return raw.read_text()
    finally:
        server.stop()


def _py_spy() -> str:
    local = Path(sys.executable).with_name("py-spy")
    found = str(local) if local.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy not found: `.venv/bin/uv pip install py-spy`")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--single",
        action="store_true",
        help="requests of one event over 16 connections instead of 500 x 4",
    )
    parser.add_argument(
        "--gil",
        action="store_true",
        help="only samples of the thread holding the GIL (CPU, not waiting)",
    )
    parser.add_argument(
        "--replay", action="store_true", help="sample a replay of requests already stored"
    )
    parser.add_argument(
        "--native", action="store_true", help="C frames too (where a Python frame's self time is)"
    )
    parser.add_argument("--keep", help="save the collapsed stacks to this file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="stripemeter-profile-"))
    pg = Postgres() if args.database == "postgres" else None
    try:
        url = pg.database("profile") if pg else f"sqlite:///{workdir / 'profile.db'}"
        collapsed = _profile(url, workdir, args)
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    for by_self in (False, True):
        order = "self" if by_self else "total"
        load = "single events x 16" if args.single else "batch ingest 500 x 4"
        print(f"\n{'total':>6} {'self':>6}  frame ({args.database}, {load}, by {order})")
        for frame, total, own in summarise(collapsed, args.top, by_self=by_self):
            print(f"{total:6.1%} {own:6.1%}  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
