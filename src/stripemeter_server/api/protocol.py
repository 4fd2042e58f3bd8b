"""uvicorn HTTP protocols whose parse-error answer is a problem body, like every other error.

A request whose head the HTTP parser refuses (a NUL or another control byte in a header,
such as a malformed ``Authorization``) never reaches the application: uvicorn answers it
itself with a ``text/plain`` 400. These subclasses keep uvicorn's behaviour — 400, then
close the connection — and only change the body to RFC 9457 ``application/problem+json``.
``serve`` passes them to uvicorn by import path (so ``--workers`` can spawn them too).
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

PROBLEM = {
    "type": "https://stripemeter.dev/problems/invalid_http_request",
    "title": "Bad Request",
    "status": 400,
    "detail": "the HTTP request could not be parsed (a header holds a control character, "
    "or the request line or a header is malformed)",
    "code": "invalid_http_request",
}
BODY = json.dumps(PROBLEM, separators=(",", ":")).encode("ascii")
HEADERS = [
    (b"content-type", b"application/problem+json"),
    (b"content-length", str(len(BODY)).encode("ascii")),
    (b"connection", b"close"),
]


def raw_response() -> bytes:
    """The whole 400 response as bytes, for protocols that write to the transport."""
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head.extend(name + b": " + value + b"\r\n" for name, value in HEADERS)
    return b"".join([*head, b"\r\n", BODY])


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        event = h11.Response(status_code=400, headers=HEADERS, reason=b"Bad Request")
        self.transport.write(self.conn.send(event) or b"")
        self.transport.write(self.conn.send(h11.Data(data=BODY)) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()


try:  # httptools is what uvicorn[standard] uses by default
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            self.transport.write(raw_response())
            self.transport.close()

    DEFAULT_PROTOCOL = "stripemeter_server.api.protocol:ProblemHttpToolsProtocol"
except ImportError:  # pragma: no cover - only without uvicorn[standard]
    DEFAULT_PROTOCOL = "stripemeter_server.api.protocol:ProblemH11Protocol"
