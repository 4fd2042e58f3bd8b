"""A tiny webhook receiver on 127.0.0.1 for delivery tests: real HTTP, scripted answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    statuses: list[int]  # answers in order; the last one repeats
    requests: list[Received] = field(default_factory=list)
    body: bytes = b""  # the body of every answer


@contextmanager
def webhook_receiver(statuses: list[int], body: bytes = b"") -> Iterator[Receiver]:
    """Answers POST and GET with the scripted statuses and ``body``."""
    receiver = Receiver(url="", statuses=list(statuses), body=body)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                index = min(len(receiver.requests), len(receiver.statuses)) - 1
                status = receiver.statuses[index]
            self.send_response(status)
            self.send_header("Content-Length", str(len(receiver.body)))
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(receiver.body)

        do_GET = do_POST  # noqa: N815 (http.server names its handlers so)

        def log_message(self, fmt: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
