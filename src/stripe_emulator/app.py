"""The ASGI application: a thin raw-ASGI shell around the engine, because dropping a
response mid-flight (fault `drop_response`) needs control below any framework."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.engine import Emulator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# A bound on one request body (Stripe's own limit is of this order).
MAX_BODY_BYTES = 1 << 20


class EmulatorApp:
    """ASGI callable; `.emulator` exposes the engine for in-process inspection."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.emulator = Emulator(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await _too_large(send)
                return
            if not message.get("more_body"):
                break
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        outcome = await self.emulator.handle(
            scope["method"].upper(),
            scope["path"],
            scope.get("query_string", b"").decode("utf-8", "replace"),
            headers,
            body,
        )
        payload = json.dumps(outcome.body).encode()
        raw_headers = [(b"content-type", b"application/json")]
        raw_headers += [(k.encode(), v.encode()) for k, v in outcome.headers.items()]
        if outcome.drop:
            # Promise more bytes than we send, then stop: the server closes the
            # connection and the client sees a broken response after the commit.
            raw_headers.append((b"content-length", str(len(payload) + 64).encode()))
            await send(
                {"type": "http.response.start", "status": outcome.status, "headers": raw_headers}
            )
            await send(
                {
                    "type": "http.response.body",
                    "body": payload[: len(payload) // 2],
                    "more_body": True,
                }
            )
            return
        raw_headers.append((b"content-length", str(len(payload)).encode()))
        await send(
            {"type": "http.response.start", "status": outcome.status, "headers": raw_headers}
        )
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.emulator.delivery.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.emulator.delivery.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _too_large(send: Send) -> None:
    payload = json.dumps(
        {
            "error": {
                "type": "invalid_request_error",
                "message": f"The request body is larger than {MAX_BODY_BYTES} bytes.",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    """Build the emulator's ASGI app (a fresh, independent emulated account)."""
    return EmulatorApp(config or EmulatorConfig())
