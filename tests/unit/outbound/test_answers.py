"""The answer reader under the pinned pool (ADR 0963): framing by chunks, length or the
connection's end; no body where HTTP has none; interim answers skipped; what cannot be
framed raises (the pool then closes the socket, never reuses it)."""

from __future__ import annotations

import http.client
import socket

import pytest

from stripemeter_server.outbound.answers import read_answer


def _read(raw: bytes, method: str = "POST", *, end: bool = False) -> tuple[object, ...]:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(raw)
        if end:
            theirs.shutdown(socket.SHUT_WR)
        answer = read_answer(ours, method)
    return answer.status, answer.body, answer.close, dict(answer.headers)


def test_a_length_framed_answer_keeps_the_connection_and_reads_headers_in_any_case() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"HTTP/1.1 402 Payment Required\r\nRequest-Id: req_1\r\nX-A: 1\r\n")
        theirs.sendall(b"x-a: 2\r\nContent-Length: 3\r\n\r\n{}\n")
        answer = read_answer(ours, "POST")
    assert (answer.status, answer.body, answer.close) == (402, b"{}\n", False)
    assert answer.headers["REQUEST-ID"] == answer.headers.get("request-id") == "req_1"
    assert "Request-Id" in answer.headers and "Stripe-Notice" not in answer.headers
    assert answer.headers.get("Stripe-Notice") is None and answer.headers["x-a"] == "1, 2"


def test_chunks_are_joined_and_trailers_skipped() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw += b"4;x=y\r\nabcd\r\n1\r\ne\r\n0\r\nT: 1\r\n\r\n"
    assert _read(raw)[:3] == (200, b"abcde", False)


def test_an_interim_answer_is_skipped() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert _read(raw)[:3] == (200, b"ok", False)


@pytest.mark.parametrize(
    ("raw", "method", "expected"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", "DELETE", (204, b"", False)),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", "HEAD", (200, b"", False)),
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
            "GET",
            (200, b"ok", True),
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", (200, b"ok", True)),
    ],
)
def test_bodies_and_connection_ends(raw: bytes, method: str, expected: tuple[object, ...]) -> None:
    assert _read(raw, method)[:3] == expected


def test_an_answer_without_length_ends_with_the_connection() -> None:
    assert _read(b"HTTP/1.1 200 OK\r\n\r\nall of it", end=True)[:3] == (200, b"all of it", True)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"SSH-2.0-x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nab\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
    ],
)
def test_what_cannot_be_framed_raises(raw: bytes) -> None:
    with pytest.raises(http.client.HTTPException):
        _read(raw, end=True)
