"""A real ``stripemeter serve`` process under test, its peak-RSS probe and a tiny client.

The server runs exactly as an operator would start it (the console script; one process, or
a supervisor and N HTTP worker processes with ``--workers N``), so the figures include
uvicorn, FastAPI and the store. CPU time and peak RSS cover the whole process tree
(``benchmarks/proctree.py``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.proctree import RssProbe, descendants, tree_cpu_seconds

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def load_average() -> list[float]:
    """The machine's 1/5/15-minute load averages: other work on a shared machine skews
    timings, so every run records them."""
    try:
        with open("/proc/loadavg") as fh:
            return [float(x) for x in fh.read().split()[:3]]
    except OSError:
        return []


class Client:
    """Blocking keep-alive JSON client for setup and verification (not for timed load)."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


class Server:
    """Start ``stripemeter serve [--workers N]`` on ``database_url`` and wait until it is
    ready (and, with N > 1, until its N worker processes exist)."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.key = "smk_bench_" + secrets.token_urlsafe(18)
        self.log_path = workdir / f"server-{self.port}.log"
        exe = Path(sys.executable).with_name("stripemeter")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "stripemeter_server.cli.main"]
        # The load generator is one tenant far above the default per-tenant rate limit. No
        # in-process Stripe emulator: a deployment has a Stripe account, and the emulator's
        # webhook poller costs CPU every 0.5 s (see the README, "Where the time goes").
        env = {
            **os.environ,
            "STRIPEMETER_DATABASE_URL": database_url,
            "STRIPEMETER_BOOTSTRAP_KEY": self.key,
            "STRIPEMETER_RATE_LIMIT_PER_SECOND": "0",
            "STRIPEMETER_LOCAL_STRIPE": "off",
            "STRIPEMETER_DEFAULT_AUTO_CREATE_METRICS": "true",
            **(env or {}),
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        args = [*cmd, "serve", "--host", HOST, "--port", str(self.port)]
        if workers > 1:
            args += ["--workers", str(workers)]
        self.proc = subprocess.Popen(
            args, env=env, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready()
        self.rss = RssProbe(self.proc.pid)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited ({self.proc.returncode}); log: "
                    f"{self.log_path.read_text(errors='replace')[-2000:]}"
                )
            if self._answers_ready() and len(descendants(self.proc.pid)) > self._children():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server not ready within 60 s")

    def _children(self) -> int:
        """Processes expected below ``serve``: none for one process, N HTTP workers else."""
        return 0 if self.workers == 1 else self.workers

    def _answers_ready(self) -> bool:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                conn.request("GET", "/health/ready")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        return False

    def cpu_seconds(self) -> float:
        """CPU time of the server's whole process tree so far."""
        return tree_cpu_seconds(self.proc.pid)

    def client(self) -> Client:
        return Client(self.port, self.key)

    def stop(self) -> None:
        if hasattr(self, "rss"):
            self.rss.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


class Postgres:
    """The repo's throwaway PostgreSQL helper (tests/support), started with fsync on so the
    figures are those of a durable setup."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parent.parent
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        from tests.support.postgres import PostgresServer

        self.server = PostgresServer.start(fsync=True)

    def database(self, name: str) -> str:
        return self.server.create_database(name)

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.server.admin_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def pid(self) -> int:
        """The postmaster's process id (its children are the backends): for CPU figures."""
        return int((self.server.root / "data" / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        self.server.stop()
