"""``python -m benchmarks.portal_ab``: the portal reads of two (or more) code trees, measured
alternately on one filled store, for figures that hold on a loaded machine.

A single ``benchmarks.portal`` run on a shared machine moves by 10-20 % in CPU from run to
run. This fills one store once as ``benchmarks.portal`` does, then measures each tree in a
process of its own (``PYTHONPATH`` = the tree's ``src`` and root, so its code and its
``benchmarks.portal`` timing run), the trees' order rotating every round: medians over
rounds, and the routes a change does not touch as the control. A tree is a directory
holding a checkout, e.g. ``git archive <commit> | tar -x -C ../before``.
Usage: ``python -m benchmarks.portal_ab --tree before=DIR --tree after=. [--only sqlite|postgres]
[--rounds 4] [--requests 500] [--customers N --events N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MEASURE = "measure"  # the child's first argument


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.portal_ab", description=__doc__)
    parser.add_argument("--tree", action="append", required=True, help="NAME=DIRECTORY")
    parser.add_argument("--only", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    return parser.parse_args(argv)


def _prepare(url: str, customers: int, events: int) -> str:
    """The store filled and seeded as ``benchmarks.portal`` does; the portal token."""
    from fastapi.testclient import TestClient

    from benchmarks.portal import _seed_billing
    from benchmarks.progress import Reporter
    from benchmarks.ui import KEY, NOW, _fill, _ref
    from stripemeter_server.api.app import create_app
    from stripemeter_server.config import Settings
    from stripemeter_server.domain.events import EventLimits
    from stripemeter_server.service.clock import FrozenClock
    from stripemeter_server.service.context import ServiceContext
    from stripemeter_server.service.operations.tenancy import bootstrap
    from stripemeter_server.storage.unit_of_work import Store

    store = Store(url)
    store.migrate()
    with store.unit_of_work() as uow:
        bootstrap(uow, NOW, KEY)
        uow.commit()
    _fill(store, customers, events, Reporter(force_plain=True))
    ctx = ServiceContext(store=store, clock=FrozenClock(NOW), limits=EventLimits())
    with TestClient(create_app(Settings(database_url=url), context=ctx)) as client:
        admin = {"Authorization": f"Bearer {KEY}"}
        metric = {"code": "api_calls", "aggregation": "sum"}
        client.post("/v1/metrics", json=metric, headers=admin)
        _seed_billing(client, admin, _ref(7))
        minted = client.post("/v1/portal/tokens", json={"customerRef": _ref(7)}, headers=admin)
    store.close()
    return str(minted.json()["token"])


def _measure(url: str, token: str, db_pid: int, count: int) -> None:
    """In the child: this tree's figures for every route, as one JSON line."""
    from fastapi.testclient import TestClient

    from benchmarks.portal import FLOOR, READS, Meter, _percentiles
    from benchmarks.ui import KEY, NOW
    from stripemeter_server.api.app import create_app
    from stripemeter_server.config import Settings
    from stripemeter_server.domain.events import EventLimits
    from stripemeter_server.service.clock import FrozenClock
    from stripemeter_server.service.context import ServiceContext
    from stripemeter_server.storage.unit_of_work import Store

    store = Store(url)
    ctx = ServiceContext(store=store, clock=FrozenClock(NOW), limits=EventLimits())
    meter = Meter(store, db_pid or None)
    with TestClient(create_app(Settings(database_url=url), context=ctx)) as client:
        out = {"floor": _percentiles(client, FLOOR, KEY, count, meter)}
        for name, path in READS.items():
            out[name] = _percentiles(client, path, token, count, meter)
    store.close()
    print(json.dumps(out))


def _round(trees: dict[str, Path], url: str, token: str, pid: int, args: Any, r: int) -> None:
    names = list(trees)
    for name in names[r % len(names) :] + names[: r % len(names)]:
        tree = trees[name].resolve()
        env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
        command = [
            sys.executable,
            "-P",
            __file__,
            MEASURE,
            url,
            token,
            str(pid),
            str(args.requests),
        ]
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{name}: {done.stderr[-2000:]}")
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        for route, figures in json.loads(done.stdout.strip().splitlines()[-1]).items():
            p50, p99, cpu, db, statements = figures
            db_text = "" if db is None else f", db cpu {db:5.2f}"
            print(
                f"{args.only} round {r} {name:8s} {route:26s} p50 {p50:6.2f}, p99 {p99:6.2f}, "
                f"cpu {cpu:5.2f}{db_text}, {statements:4.1f} statements, load {load}",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == [MEASURE]:
        url, token, pid, count = sys.argv[2:6]
        _measure(url, token, int(pid), int(count))
        return 0
    args = parse_args(argv)
    trees = {name: Path(folder) for name, folder in (t.split("=", 1) for t in args.tree)}
    with tempfile.TemporaryDirectory(prefix="bench-portal-ab-") as folder:
        if args.only == "sqlite":
            url = f"sqlite:///{Path(folder) / 'portal.db'}"
            token = _prepare(url, args.customers, args.events)
            for r in range(args.rounds):
                _round(trees, url, token, 0, args, r)
            return 0
        from benchmarks.server import Postgres

        postgres = Postgres()
        try:
            url = postgres.database("bench_portal_ab")
            token = _prepare(url, args.customers, args.events)
            for r in range(args.rounds):
                _round(trees, url, token, postgres.pid(), args, r)
        finally:
            postgres.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
