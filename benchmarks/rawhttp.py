"""A keep-alive HTTP/1.1 exchange on a plain socket, for the load generator's clients.

Why not ``http.client``: on this 2-core machine the clients share the CPU with the server,
and ``http.client`` spends ~100 µs of Python per request building headers and parsing the
answer (an email-style header parser). Single-event phases run thousands of requests a
second, so the generator was taking CPU the server would otherwise have. Here each request
is encoded once (request line, headers, body) and the answer parsed only as far as the
status, ``Content-Length`` and the body: a fraction of the cost, so the figures measure the
server rather than its client (the issue's own figures came from a C load generator).

Only what the server sends is understood: ``Content-Length`` bodies (no chunked encoding);
anything else raises ``ProtocolError``, which the caller treats like a dropped connection.
"""

from __future__ import annotations

import socket

_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 64 * 1024


class ProtocolError(OSError):
    """An answer this client does not understand, or the connection closed mid-answer."""


def encode_request(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
    """The request's bytes, built once and sent as is for every attempt."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class RawConnection:
    """One keep-alive connection: ``exchange`` sends a request and reads its whole answer."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._address, self._timeout = (host, port), timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def connect(self) -> None:
        sock = socket.create_connection(self._address, timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._buffer = sock, b""

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def exchange(self, raw: bytes) -> tuple[int, bytes]:
        """Send ``raw``; return the answer's status and body."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        self._sock.sendall(raw)
        head, rest = self._read_head()
        status, length, closing = _parse_head(head)
        while len(rest) < length:
            rest += self._recv()
        self._buffer = rest[length:]
        if closing:
            self.close()
        return status, rest[:length]

    def _read_head(self) -> tuple[bytes, bytes]:
        data = self._buffer
        while (end := data.find(_HEAD_END)) < 0:
            if len(data) > _MAX_HEAD:
                raise ProtocolError("answer head too large")
            data += self._recv()
        return data[:end], data[end + len(_HEAD_END) :]

    def _recv(self) -> bytes:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ProtocolError("connection closed by the server")
        return chunk


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status code, ``Content-Length`` and whether the server closes the connection."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
    length, closing = None, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding":
            raise ProtocolError("chunked answers are not understood")
        elif lowered == b"connection":
            closing = value.strip().lower() == b"close"
    return int(parts[1]), length or 0, closing
