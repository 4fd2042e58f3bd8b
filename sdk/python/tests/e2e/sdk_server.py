"""A real ``stripemeter serve`` subprocess on 127.0.0.1 with a SQLite file (e2e tests).

A server that cannot start raises (with its log): e2e tests fail, never skip.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

SERVER_BIN = Path(sys.executable).with_name("stripemeter")
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One ``stripemeter serve`` process; ``kill()``/``start()`` keep port and database."""

    def __init__(self, database: Path, api_key: str, port: int | None = None) -> None:
        self.database = database
        self.api_key = api_key
        self.port = port or free_port()
        self.log_path = database.parent / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = dict(os.environ)
        env.update(
            {
                "STRIPEMETER_DATABASE_URL": f"sqlite:///{self.database}",
                "STRIPEMETER_BOOTSTRAP_KEY": self.api_key,
                "STRIPEMETER_DEFAULT_AUTO_CREATE_METRICS": "true",
            }
        )
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(SERVER_BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"stripemeter serve exited ({self.proc.returncode}):\n"
                    + self.log_path.read_text(errors="replace")
                )
            try:
                if httpx.get(self.url + "/health/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            "stripemeter serve did not become ready:\n" + self.log_path.read_text(errors="replace")
        )

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight requests are cut."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None


ServerFactory = Callable[..., Server]
