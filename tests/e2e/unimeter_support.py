"""A real `stripemeter serve` process with the Unimeter port open, and the guide's samples
run as written (tests/e2e/unimeter_samples)."""

from __future__ import annotations

import ast
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

STRIPEMETER = str(Path(sys.executable).with_name("stripemeter"))
SAMPLES = Path(__file__).with_name("unimeter_samples")
UNIMETER_PORT = 7001  # the samples name localhost:7001, Unimeter's own port
ADMIN_KEY = "smk_e2e_unimeter_admin_0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def port_held(shared_dir: Path, port: int) -> Iterator[None]:
    """One test at a time on a fixed port, across test worker processes (``-n 2``)."""
    with (shared_dir / f"port-{port}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class UnimeterServer:
    """`stripemeter serve --unimeter-port`; the local Stripe emulator off (not needed)."""

    def __init__(self, db: Path, unimeter_port: int = UNIMETER_PORT) -> None:
        self.db, self.http_port, self.unimeter_port = db, free_port(), unimeter_port
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.log = db.with_suffix(f".{self.http_port}.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> UnimeterServer:
        assert not port_is_open(self.unimeter_port), f"port {self.unimeter_port} is taken"
        env = {
            **os.environ,
            "STRIPEMETER_DATABASE_URL": f"sqlite:///{self.db}",
            "STRIPEMETER_BOOTSTRAP_KEY": ADMIN_KEY,
            "STRIPEMETER_LOCAL_STRIPE": "off",
        }
        # the child holds its own copy of the log's descriptor: ours is closed at once
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [
                    STRIPEMETER,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.http_port),
                    "--unimeter-port",
                    str(self.unimeter_port),
                    "--unimeter-tenant",
                    "default",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                ready = httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                ready = False
            if ready and port_is_open(self.unimeter_port):
                return self
            time.sleep(0.1)
        raise AssertionError(f"server did not become ready: {self.log.read_text()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.url}{path}",
            timeout=10,
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            **kwargs,
        )


async def run_sample(name: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run a sample's text as written, top-level ``await`` allowed (as the asyncio REPL
    runs a snippet); its names are left in ``namespace``."""
    path = SAMPLES / name
    code = compile(path.read_text(), str(path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    pending = eval(code, namespace)  # the sample's own text, from the repository
    if pending is not None:
        await pending
    return namespace
