"""``python -m benchmarks.soak`` (``make bench-soak``): a long run at half capacity on
PostgreSQL with the Stripe pusher running, to show that nothing grows or drifts.

Processes, as an operator runs them: a throwaway PostgreSQL (fsync on), ``stripemeter
serve``, ``stripemeter worker`` (the pusher) and ``stripemeter stripe-emulator``, each its
own process. First a short burst of back-to-back batches measures the capacity; then paced
clients ingest at half of it (``--rate`` overrides) for ``--minutes`` (default 30). Each
window prints events/s, p50/p99, the resident memory of ``serve`` and of ``worker``, and the
push lag. At the end the pusher drains and every customer's total is compared three ways:
what the clients sent, what the service reports and what Stripe's meter summaries say.

Verdicts (reported, never asserted in a test): memory flat — less than 10 % growth from the
first window after warm-up to the last; p99 stable — the last third's median p99 within twice
the first third's; exact. The exit status is non-zero when a total differs.
Usage: ``python -m benchmarks.soak [--minutes M] [--rate EV_S] [--customers N] [--plain]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import stripe

from benchmarks import report
from benchmarks.loadgen import Request, run_load
from benchmarks.proctree import descendants, proc_kb
from benchmarks.progress import Reporter
from benchmarks.server import HOST, Client, Postgres, Server, free_port, load_average
from benchmarks.soak_load import PacedLoad, PacedPlan, Window

METRIC = "soak_sum"
SECRET = "sk_test_soak_emulator"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, help="events/s (default: half the capacity)")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100, help="events per request")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--window", type=float, default=60.0, help="seconds per report line")
    parser.add_argument("--warmup", type=float, default=3.0, help="minutes before memory counts")
    parser.add_argument("--results-dir", type=Path, default=report.RESULTS_DIR)
    parser.add_argument("--plain", action="store_true")
    return parser.parse_args(argv)


def _console(exe: str) -> list[str]:
    path = Path(sys.executable).with_name(exe)
    return [str(path)] if path.exists() else [sys.executable, "-m", "stripemeter_server.cli.main"]


class Emulator:
    """``stripemeter stripe-emulator`` in its own process, in memory."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._log = open(workdir / "emulator.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*_console("stripemeter"), "stripe-emulator", "--host", HOST, "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
        self.client = stripe.StripeClient(
            SECRET,
            base_addresses={
                "api": self.url,
                "meter_events": self.url,
                "files": self.url,
                "connect": self.url,
            },
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.v1.billing.meters.list()
                return
            except stripe.StripeError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the Stripe emulator did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=15)
        self._log.close()


class Worker:
    """``stripemeter worker``: the pusher and the other loops, as an operator runs it."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self._log = open(workdir / "worker.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*_console("stripemeter"), "worker", "--interval", "0.2"],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._log.close()


def _rss_mb(pid: int) -> float:
    return round(sum(proc_kb(p, "VmRSS") or 0 for p in descendants(pid)) / 1024, 1)


_GAUGE = re.compile(
    r"^(stripemeter_push_lag_seconds|stripemeter_push_pending)(?:\{[^}]*\})? "
    r"([0-9.eE+-]+)$",
    re.MULTILINE,
)


def _push_gauges(client: Client) -> dict[str, float]:
    """The pusher's lag and backlog as ``/metrics`` exposes them (the largest over tenants).
    A new connection each time: a window outlasts the server's keep-alive."""
    conn = http.client.HTTPConnection(HOST, client.port, timeout=60)
    try:
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {client.key}"})
        text = conn.getresponse().read().decode(errors="replace")
    finally:
        conn.close()
    found: dict[str, float] = {}
    for name, value in _GAUGE.findall(text):
        found[name] = max(found.get(name, 0.0), float(value))
    return found


def _setup(client: Client, emulator: Emulator, customers: int, reporter: Reporter) -> list[str]:
    for method, path, body in (
        ("POST", "/v1/metrics", {"code": METRIC, "aggregation": "sum"}),
        ("POST", "/v1/mappings", {"metric": METRIC}),
        ("POST", "/v1/stripe/meters/sync", None),
    ):
        status, answer = client.call(method, path, body)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {status} {answer}")
    refs = []
    with reporter.task("Stripe customers", customers) as update:
        for i in range(customers):
            refs.append(emulator.client.v1.customers.create(params={"name": f"soak {i}"}).id)
            update(i + 1)
    return refs


def _capacity(server: Server, refs: list[str], reporter: Reporter) -> float:
    """Events/s of back-to-back batches of 500 from 4 clients for 15 s: the ceiling."""
    ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    requests = [
        Request(
            "POST",
            "/v1/events/ingest",
            json.dumps(
                {
                    "events": [
                        {
                            "metric": METRIC,
                            "customerRef": refs[(b * 500 + i) % len(refs)],
                            "quantity": "0",
                            "ts": ts,
                            "idempotencyKey": f"cap-{b}-{i}",
                        }
                        for i in range(500)
                    ]
                }
            ).encode(),
            500,
        )
        for b in range(400)
    ]
    load = run_load(server.port, server.key, requests, clients=4, time_limit=15.0)
    rate = load.events / load.wall_s if load.wall_s else 0.0
    reporter.log(f"capacity: {rate:,.0f} events/s (zero quantities, so totals are unchanged)")
    return rate


def _settle(
    client: Client,
    emulator: Emulator,
    refs: list[str],
    want: dict[str, Decimal],
    limit_s: float = 600.0,
) -> tuple[float, dict[str, Decimal], dict[str, Decimal]]:
    """Wait until Stripe's totals equal the service's (the pusher plans on its next pass,
    so an empty outbox alone proves nothing); returns the wait and both sides' totals."""
    started = time.monotonic()
    while True:
        service, in_stripe = _service_totals(client, refs), _stripe_totals(emulator, refs)
        waited = time.monotonic() - started
        if service == in_stripe == {r: want.get(r, Decimal(0)) for r in refs} or waited > limit_s:
            return waited, service, in_stripe
        time.sleep(2.0)


def _stripe_totals(emulator: Emulator, refs: list[str]) -> dict[str, Decimal]:
    meter = next(m for m in emulator.client.v1.billing.meters.list().data if m.event_name == METRIC)
    day = int(time.time()) // 86400 * 86400
    totals = {}
    for ref in refs:
        page = emulator.client.v1.billing.meters.event_summaries.list(
            meter.id,
            params={"customer": ref, "start_time": day - 40 * 86400, "end_time": day + 2 * 86400},
        )
        totals[ref] = sum((Decimal(str(s.aggregated_value)) for s in page.data), Decimal(0))
    return totals


def _service_totals(client: Client, refs: list[str]) -> dict[str, Decimal]:
    totals = {}
    for ref in refs:
        status, body = client.call("GET", f"/v1/usage/current?customerRef={ref}")
        if status != 200:
            raise RuntimeError(f"usage/current {ref}: HTTP {status}")
        values = {m["metric"]: Decimal(str(m["value"])) for m in body["metrics"]}
        totals[ref] = values.get(METRIC, Decimal(0))
    return totals


def _verdicts(rows: list[dict[str, Any]], warmup_s: float) -> dict[str, Any]:
    settled = [r for r in rows if r["t_s"] > warmup_s] or rows
    first, last = settled[0], settled[-1]
    growth = {
        name: round((last[name] - first[name]) / first[name] * 100, 1) if first[name] else None
        for name in ("serve_rss_mb", "worker_rss_mb")
    }
    p99s = [r["p99_ms"] for r in rows if r["p99_ms"] is not None]
    third = max(1, len(p99s) // 3)
    early, late = statistics.median(p99s[:third]), statistics.median(p99s[-third:])
    return {
        "rss_growth_pct": growth,
        "rss_flat": all(g is not None and g < 10 for g in growth.values()),
        "p99_first_third_ms": round(early, 2),
        "p99_last_third_ms": round(late, 2),
        "p99_stable": late <= 2 * early,
    }


def _row(
    window: Window, server: Server, worker: Worker, gauges: dict[str, float], seconds: float
) -> dict[str, Any]:
    p50, p99 = window.percentile(50), window.percentile(99)
    return {
        "t_s": round(window.end_s),
        "events_per_s": round(window.acked / seconds, 1),
        "p50_ms": None if p50 is None else round(p50, 2),
        "p99_ms": None if p99 is None else round(p99, 2),
        "non_200": sum(n for s, n in window.statuses.items() if s != 200),
        "serve_rss_mb": _rss_mb(server.proc.pid),
        "worker_rss_mb": _rss_mb(worker.proc.pid),
        "push_lag_s": round(gauges.get("stripemeter_push_lag_seconds", 0.0), 2),
        "push_pending": int(gauges.get("stripemeter_push_pending", 0.0)),
    }


def run(args: argparse.Namespace, reporter: Reporter) -> dict[str, Any]:
    pg = Postgres()
    workdir = Path(tempfile.mkdtemp(prefix="stripemeter-soak-"))
    url = pg.database("soak")
    emulator = Emulator(workdir)
    stripe_env = {
        "STRIPEMETER_STRIPE_SECRET_KEY": SECRET,
        "STRIPEMETER_STRIPE_API_BASE": emulator.url,
        "STRIPEMETER_PUSH_RATE_TEST": "1000000",
        "STRIPEMETER_PUSH_WORKER": "false",
    }
    server = Server(url, workdir, env=stripe_env)
    worker = Worker({**stripe_env, "STRIPEMETER_DATABASE_URL": url}, workdir)
    client = server.client()
    try:
        refs = _setup(client, emulator, args.customers, reporter)
        rate = args.rate or _capacity(server, refs, reporter) / 2
        plan = PacedPlan(
            port=server.port,
            key=server.key,
            metric=METRIC,
            customers=tuple(refs),
            rate=rate,
            batch=args.batch,
            seconds=args.minutes * 60,
            window_s=args.window,
            clients=args.clients,
        )
        reporter.log(
            f"soak: {rate:,.0f} events/s for {args.minutes:g} min on PostgreSQL, "
            f"{args.customers} customers, pusher in its own process"
        )
        load = PacedLoad(plan)
        rows: list[dict[str, Any]] = []
        for window in load.windows():
            seconds = min(window.end_s, plan.seconds) - (rows[-1]["t_s"] if rows else 0)
            row = _row(window, server, worker, _push_gauges(client), max(seconds, 1e-3))
            rows.append(row)
            reporter.log(" ".join(f"{k}={v}" for k, v in row.items()))
        load.close()
        want = load.expected_totals()
        drain_s, service, in_stripe = _settle(client, emulator, refs, want)
        bad = [
            f"{r}: sent {want.get(r, Decimal(0))}, service {service[r]}, Stripe {in_stripe[r]}"
            for r in refs
            if not want.get(r, Decimal(0)) == service[r] == in_stripe[r]
        ]
        return {
            "rate": round(rate, 1),
            "minutes": args.minutes,
            "customers": args.customers,
            "windows": rows,
            "drain_s": round(drain_s, 2),
            "events_sent": sum(load.batches.values()) * args.batch,
            "exact": not bad,
            "mismatches": bad[:5],
            **_verdicts(rows, args.warmup * 60),
        }
    finally:
        client.close()
        worker.stop()
        server.stop()
        emulator.stop()
        pg.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reporter = Reporter(force_plain=args.plain)
    result = run(args, reporter)
    result.update(load_average=load_average(), at=datetime.now(UTC).isoformat(timespec="seconds"))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.results_dir / f"{stamp}-soak.json").write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: v for k, v in result.items() if k != "windows"}
    reporter.log("soak result: " + json.dumps(summary))
    return 0 if result["exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
