"""A real ``stripemeter serve`` process under test, its peak-RSS probe and a tiny client.

The server runs exactly as an operator would start it (the console script, one process),
so the figures include uvicorn, FastAPI and the store. Peak RSS comes from the kernel:
``VmHWM`` in ``/proc/<pid>/status``, reset per scenario by writing ``5`` to
``/proc/<pid>/clear_refs`` (we own the process), with a ``VmRSS`` poller as a fallback.
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
import threading
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _proc_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (from /proc/<pid>/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> list[float]:
    """The machine's 1/5/15-minute load averages: other work on a shared machine skews
    timings, so every run records them."""
    try:
        with open("/proc/loadavg") as fh:
            return [float(x) for x in fh.read().split()[:3]]
    except OSError:
        return []


class RssProbe:
    """Peak resident memory of one process between ``reset()`` and ``peak_mb()``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._polled_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            kb = _proc_kb(self.pid, "VmRSS")
            if kb is not None:
                self._polled_kb = max(self._polled_kb, kb)

    def reset(self) -> None:
        self._polled_kb = 0
        with contextlib.suppress(OSError), open(f"/proc/{self.pid}/clear_refs", "w") as fh:
            fh.write("5")

    def peak_mb(self) -> float:
        hwm = _proc_kb(self.pid, "VmHWM") or 0
        return round(max(hwm, self._polled_kb) / 1024, 1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


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
    """Start ``stripemeter serve`` on ``database_url`` and wait until it is ready."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.key = "smk_bench_" + secrets.token_urlsafe(18)
        self.log_path = workdir / f"server-{self.port}.log"
        exe = Path(sys.executable).with_name("stripemeter")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "stripemeter_server.cli.main"]
        # The load generator is one tenant far above the default per-tenant rate limit.
        env = {**os.environ, "STRIPEMETER_DATABASE_URL": database_url,
               "STRIPEMETER_BOOTSTRAP_KEY": self.key, "STRIPEMETER_RATE_LIMIT_PER_SECOND": "0"}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([*cmd, "serve", "--host", HOST, "--port", str(self.port)],
                                     env=env, cwd=workdir, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self._wait_ready()
        self.rss = RssProbe(self.proc.pid)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}); log: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/health/ready")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server not ready within 60 s")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

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

    def stop(self) -> None:
        self.server.stop()
