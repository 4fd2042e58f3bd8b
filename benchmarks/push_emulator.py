"""The Stripe emulator in a process of its own, for the push benchmark.

The pusher and the emulator must not share a GIL: in one process the figure would be half
the emulator's CPU. ``python -m benchmarks.push_emulator --port N`` serves one emulated
account with its rate limits off (no per-second request or meter-event limit) and no webhook
delivery; the one-call-per-customer-and-meter rule stays on, so a pusher that broke Stripe's
ordering rule would see errors. ``EmulatorProcess`` starts and stops it and reads its CPU.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from benchmarks.proctree import process_cpu_seconds
from benchmarks.server import free_port

ROOT = Path(__file__).resolve().parent.parent


class EmulatorProcess:
    """``with EmulatorProcess() as emu: emu.url``: a live emulator on 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> EmulatorProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.push_emulator", "--port", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/v1/balance", timeout=1, trust_env=False)
                return self
            except httpx.HTTPError:
                if self._proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the Stripe emulator process did not start")

    def cpu_seconds(self) -> float:
        return 0.0 if self._proc is None else process_cpu_seconds(self._proc.pid)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from stripe_emulator import EmulatorConfig
    from stripe_emulator.app import create_app
    from stripe_emulator.protocol import EmulatorHttpProtocol

    parser = argparse.ArgumentParser(prog="python -m benchmarks.push_emulator")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = create_app(EmulatorConfig(auto_deliver_webhooks=False))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        http=EmulatorHttpProtocol,
        interface="asgi3",
        log_level="critical",
        access_log=False,
        proxy_headers=False,  # nothing reads the client's address: no middleware per request
        lifespan="on",
    )


if __name__ == "__main__":
    main()
