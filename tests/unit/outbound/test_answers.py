"""Answers read by ``httptools`` for the pinned pool (ADR 0966): every framing HTTP/1.1
allows is read whole (lengths, chunks, the connection's end, interim answers), the
socket is kept only when the answer left it in step, and a broken answer is an
``OSError`` (the library's retryable connection error), never a half-read success."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from stripemeter_server.outbound import answers
from stripemeter_server.outbound.answers import AnswerError, Headers, read_answer


@contextmanager
def served(data: bytes, *, close: bool = False) -> Iterator[socket.socket]:
    """The client's end of a socket pair whose server end wrote ``data`` (then closed)."""
    client, server = socket.socketpair()
    client.settimeout(5)
    server.sendall(data)
    if close:
        server.close()
    try:
        yield client
    finally:
        client.close()
        server.close()


def test_a_length_framed_answer_keeps_the_socket() -> None:
    with served(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nRequest-Id: req_1\r\n\r\n{}") as sock:
        status, body, headers, reusable = read_answer(sock)
    assert (status, body, headers["Request-Id"], reusable) == (200, b"{}", "req_1", True)


def test_an_answer_read_a_byte_at_a_time_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "READ_SIZE", 1)
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nA: b\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    with served(data) as sock:
        status, body, headers, reusable = read_answer(sock)
    assert (status, body, headers["a"], reusable) == (200, b"abc", "b", True)


def test_a_chunked_answer_is_joined() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    with served(data) as sock:
        assert read_answer(sock)[1::2] == (b"abcde", True)


def test_an_answer_without_length_ends_with_the_connection() -> None:
    with served(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", close=True) as s:
        status, body, _, reusable = read_answer(s)
    assert (status, body, reusable) == (200, b"all of it", False)


def test_connection_close_is_not_reused() -> None:
    with served(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok") as s:
        assert read_answer(s)[1::2] == (b"ok", False)


def test_an_interim_answer_is_skipped_for_the_one_that_follows() -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 402 Payment Required\r\nContent-Length: 4\r\n\r\nnope"
    )
    with served(data) as sock:
        status, body, headers, reusable = read_answer(sock)
    assert (status, body, "link" in headers, reusable) == (402, b"nope", False, True)


def test_a_no_content_answer_has_no_body() -> None:
    with served(b"HTTP/1.1 204 No Content\r\n\r\n") as sock:
        assert read_answer(sock)[:2] == (204, b"")


def test_headers_are_read_without_regard_to_case_and_repeats_are_joined() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nStripe-Should-Retry: false\r\n"
        b"Vary: a\r\nvary: b\r\nContent-Length: 0\r\n\r\n"
    )
    with served(data) as sock:
        headers = read_answer(sock)[2]
    assert "stripe-should-retry" in headers and "STRIPE-SHOULD-RETRY" in headers
    assert (headers["Stripe-Should-Retry"], headers.get("VARY"), headers.get("none")) == (
        "false",
        "a, b",
        None,
    )
    assert dict(headers) == {"stripe-should-retry": "false", "vary": "a, b", "content-length": "0"}
    anything: object = 1
    assert anything not in headers


def test_bytes_after_the_answer_leave_it_standing_but_drop_the_socket() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    )
    with served(data) as sock:
        status, body, headers, reusable = read_answer(sock)
    assert (status, body, headers["content-length"], reusable) == (200, b"{}", "2", False)


def test_garbage_after_the_answer_leaves_it_standing_but_drops_the_socket() -> None:
    with served(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}\x00\x01 not http") as sock:
        assert read_answer(sock)[1::2] == (b"{}", False)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # cut off mid-body
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",  # mid-chunk
        b"HTTP/1.1 200 OK\r\nContent-Le",  # mid-headers
        b"",  # nothing at all
    ],
)
def test_an_answer_the_server_cut_short_is_an_error(data: bytes) -> None:
    with served(data, close=True) as sock, pytest.raises(AnswerError):
        read_answer(sock)


@pytest.mark.parametrize(
    "data",
    [
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    ],
)
def test_what_breaks_the_framing_is_an_error(data: bytes) -> None:
    with served(data, close=True) as sock, pytest.raises(AnswerError):
        read_answer(sock)


def test_an_answer_larger_than_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "MAX_ANSWER_BYTES", 8)
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n123456789"
    with served(data) as sock, pytest.raises(AnswerError):
        read_answer(sock)


def test_an_answer_error_is_an_os_error() -> None:
    """The Stripe client raises every ``OSError`` as the library's retryable
    ``APIConnectionError`` (stripe/http.py)."""
    assert issubclass(AnswerError, OSError)


def test_headers_repr_names_the_class() -> None:
    assert repr(Headers({"a": "b"})) == "Headers({'a': 'b'})"
