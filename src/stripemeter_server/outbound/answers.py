"""An HTTP/1.1 answer read off a kept-alive socket, for ``pinned_pool.py`` (ADR 0963).

``http.client.HTTPResponse`` parses every answer's headers with the e-mail package: ~12 % of
a Stripe meter event's client CPU. This reader does what a client of JSON APIs needs and no
more: the status line (interim ``1xx`` answers skipped), headers into a case-insensitive
mapping, and a body framed by ``Transfer-Encoding: chunked``, ``Content-Length`` or the end
of the connection (RFC 9112 §6.3), none for ``HEAD``, ``204`` and ``304``. Anything it
cannot frame raises ``http.client.HTTPException``: the socket is then closed, never reused.
"""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from typing import IO, Any

MAX_LINE = 65536
MAX_HEADERS = 100


class AnswerHeaders(dict[str, str]):
    """An answer's headers, names lower-cased; looked up in any case (the library reads
    ``Request-Id`` and ``request-id`` alike). Repeated headers are joined with ``, ``."""

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: AnswerHeaders
    body: bytes
    close: bool  # the connection ends with this answer: not to be reused


def read_answer(sock: socket.socket, method: str) -> Answer:
    """The next answer on ``sock`` to a request of ``method``, read whole."""
    reader = sock.makefile("rb")
    try:
        while True:
            version, status = _status_line(reader)
            headers = _headers(reader)
            if status >= 200 or status == 101:
                break
        close = version == "HTTP/1.0" or "close" in headers.get("connection", "").lower()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return Answer(status, headers, b"", close)
        coding = headers.get("transfer-encoding", "").lower()
        if coding:
            if coding.rsplit(",", 1)[-1].strip() != "chunked":
                return Answer(status, headers, _exactly(reader, None), True)
            return Answer(status, headers, _chunked(reader), close)
        length = headers.get("content-length")
        if length is None:
            return Answer(status, headers, _exactly(reader, None), True)
        return Answer(status, headers, _exactly(reader, _length(length)), close)
    finally:
        reader.close()


def _line(reader: IO[bytes]) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong("answer line")
    return line


def _status_line(reader: IO[bytes]) -> tuple[str, int]:
    line = _line(reader)
    if not line:
        raise http.client.RemoteDisconnected("the server closed the connection without answering")
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise http.client.BadStatusLine(line[:80].decode("latin-1"))
    return parts[0], int(parts[1])


def _headers(reader: IO[bytes]) -> AnswerHeaders:
    headers = AnswerHeaders()
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader)
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise http.client.HTTPException("an answer header without a colon")
        key, text = name.strip().lower(), value.strip()
        seen = dict.get(headers, key)
        dict.__setitem__(headers, key, text if seen is None else f"{seen}, {text}")
    raise http.client.HTTPException(f"more than {MAX_HEADERS} answer headers")


def _length(value: str) -> int:
    first = value.split(",")[0].strip()  # repeated identical lengths are joined
    if not first.isdigit():
        raise http.client.HTTPException("an invalid Content-Length")
    return int(first)


def _exactly(reader: IO[bytes], length: int | None) -> bytes:
    """``length`` bytes, or everything up to the end of the connection when None."""
    data = reader.read() if length is None else reader.read(length)
    if length is not None and len(data) != length:
        raise http.client.IncompleteRead(data, length - len(data))
    return data


def _chunked(reader: IO[bytes]) -> bytes:
    parts: list[bytes] = []
    while True:
        size_text = _line(reader).split(b";", 1)[0].strip()
        if not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
            raise http.client.HTTPException("an invalid chunk size")
        size = int(size_text, 16)
        if size == 0:
            while _line(reader) not in (b"\r\n", b"\n", b""):
                pass  # trailers: none is read
            return b"".join(parts)
        parts.append(_exactly(reader, size))
        if _line(reader) not in (b"\r\n", b"\n"):
            raise http.client.HTTPException("a chunk not followed by its line end")
