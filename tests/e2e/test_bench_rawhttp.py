"""The load generator's plain-socket HTTP exchange (``benchmarks/rawhttp.py``).

It replaced ``http.client`` to leave the CPU to the server; these tests pin what it must get
right for the bench's exactness checks: status and body of keep-alive answers, a server that
closes the connection, and answers it must refuse rather than misread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.rawhttp import ProtocolError, RawConnection, encode_request


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"0\r\n\r\n")
            return
        answer = b'{"echo":' + body + b',"auth":"' + self.headers["Authorization"].encode() + b'"}'
        self.send_response(201 if self.path == "/created" else 200)
        self.send_header("Content-Length", str(len(answer)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _post(path: str, body: bytes) -> bytes:
    return encode_request("POST", path, body, {"Authorization": "Bearer k"})


def test_keep_alive_answers_come_back_in_order_with_their_status_and_body(port: int) -> None:
    conn = RawConnection("127.0.0.1", port, timeout=5)
    answers = [
        conn.exchange(_post(path, str(i).encode()))
        for i, path in enumerate(["/a", "/created", "/b"])
    ]
    conn.close()
    assert answers == [
        (200, b'{"echo":0,"auth":"Bearer k"}'),
        (201, b'{"echo":1,"auth":"Bearer k"}'),
        (200, b'{"echo":2,"auth":"Bearer k"}'),
    ]


def test_a_connection_the_server_closes_is_reopened_for_the_next_request(port: int) -> None:
    conn = RawConnection("127.0.0.1", port, timeout=5)
    first = conn.exchange(_post("/close", b"1"))
    second = conn.exchange(_post("/a", b"2"))
    conn.close()
    assert (first[0], second) == (200, (200, b'{"echo":2,"auth":"Bearer k"}'))


def test_an_answer_without_a_length_is_refused_not_misread(port: int) -> None:
    conn = RawConnection("127.0.0.1", port, timeout=5)
    with pytest.raises(ProtocolError, match="chunked"):
        conn.exchange(_post("/chunked", b"1"))
    conn.close()
