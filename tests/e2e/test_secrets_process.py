"""The real `serve` process: the bootstrap key is printed on the first start only, and a
request head that uvicorn's parser refuses (NUL in `Authorization`) still gets a problem
body (ADR 0006)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.e2e.test_server_process import Server, free_port

KEY = "smk_e2e_secret_key_000001"


def raw_get(port: int, authorization: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"GET /v1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: "
            + authorization
            + b"\r\nConnection: close\r\n\r\n"
        )
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


def test_the_key_is_printed_once_and_bad_heads_get_problems(tmp_path: Path) -> None:
    db = tmp_path / "stripemeter.db"
    first = Server(db, free_port(), KEY)
    first.kill()
    assert first.log.read_text().count(KEY) == 1
    port = free_port()
    second = Server(db, port, KEY)
    try:
        assert KEY not in second.log.read_text()
        for header in (b"Bearer a\x00b", b"Bearer \x01"):
            answer = raw_get(port, header)
            assert answer.startswith(b"HTTP/1.1 400 "), answer
            assert b"content-type: application/problem+json" in answer.lower()
            assert b'"code":"invalid_http_request"' in answer
        answer = raw_get(port, b"Bearer \xe9\xe9")  # latin-1: reaches the app
        assert answer.startswith(b"HTTP/1.1 401 ") and b"application/problem+json" in answer
        assert raw_get(port, b"Bearer " + KEY.encode()).startswith(b"HTTP/1.1 200 ")
    finally:
        second.kill()
