"""The framework floor for single events: the least an HTTP ingest on this stack can do.

A bare ASGI app under the same uvicorn settings as ``stripemeter serve`` (one process, the
same HTTP protocol implementation) that reads the body, decodes it as the ingest route does
(msgspec, exact decimals), hands it to the same ``GroupCommitter`` over the same store code,
and answers with the same JSON body. It skips what the product adds around that: admission
(keys, rate limits), the middleware (request ids, access log lines, metrics, body limits),
routing, error mapping. ``server ÷ this floor`` on the same one-event bodies (the
``asgi_floor_ratio`` column) is what the framework and those features cost.

Run as its own process (``python -m benchmarks.asgi_floor --port N``, the store from
``STRIPEMETER_DATABASE_URL``) on a scratch store next to the served one, migrated and given
the benchmark's metrics at start. ``GET /health/ready`` answers 200 once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.config import METRICS
from benchmarks.proctree import tree_cpu_seconds

HOST = "127.0.0.1"
_JSON = [(b"content-type", b"application/json")]


def build_app(database_url: str) -> Any:
    """The floor app over a migrated scratch store holding the benchmark's metrics."""
    from stripemeter_server.api.app import build_context
    from stripemeter_server.api.json_body import decode_exact, encode_plain
    from stripemeter_server.api.routes.ingest.events import outcome_json
    from stripemeter_server.config import Settings
    from stripemeter_server.domain.metrics import metric_from_dict
    from stripemeter_server.service.catalog.metrics import create_metric
    from stripemeter_server.service.ingest.group_commit import GroupCommitter
    from stripemeter_server.service.ingest.outcome import BatchRequest
    from stripemeter_server.service.operations.tenancy import bootstrap

    settings = Settings(database_url=database_url)
    ctx = build_context(settings)
    ctx.store.migrate()
    now = datetime.now(UTC)
    with ctx.store.unit_of_work() as uow:
        fresh = bootstrap(uow, now, None) is not None
        uow.commit()
    if fresh:
        with ctx.store.unit_of_work("default") as uow:
            for code, definition in METRICS.items():
                period = {"type": "month", "anchorDay": 1, "timezone": "UTC"}
                create_metric(
                    uow, metric_from_dict({"code": code, "period": period, **definition}), now
                )
            uow.commit()
    writers = settings.ingest_writers or (1 if ctx.store.dialect == "sqlite" else 2)
    committer = GroupCommitter(ctx, writers=writers, max_events=settings.max_group_events)
    clock = ctx.clock

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        if scope["method"] == "GET":
            body = b"{}"
        else:
            events = decode_exact(b"".join(chunks))["events"]
            request = BatchRequest(events, clock.now(), f"req_{uuid.uuid4().hex[:24]}", "floor")
            outcome = await asyncio.wrap_future(committer.submit("default", request))
            body = encode_plain(outcome_json(outcome))
        # With its length, as the service answers: a body without one goes out chunked.
        headers = [*_JSON, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


class AsgiFloor:
    """The floor app in its own process, like ``benchmarks.server.Server``."""

    def __init__(self, database_url: str, workdir: Path, port: int) -> None:
        self.port = port
        self.log_path = workdir / f"asgi-floor-{port}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {
            **os.environ,
            "STRIPEMETER_DATABASE_URL": database_url,
            "STRIPEMETER_LOCAL_STRIPE": "off",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.asgi_floor", "--port", str(port)],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "the ASGI floor did not start: "
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            time.sleep(0.1)

    def _ready(self) -> bool:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                conn.request("GET", "/health/ready")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        return False

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def main() -> None:
    import uvicorn

    from stripemeter_server.api.protocol import DEFAULT_PROTOCOL

    parser = argparse.ArgumentParser(prog="python -m benchmarks.asgi_floor")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build_app(os.environ["STRIPEMETER_DATABASE_URL"])
    uvicorn.run(
        app,
        host=HOST,
        port=args.port,
        http=DEFAULT_PROTOCOL,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
