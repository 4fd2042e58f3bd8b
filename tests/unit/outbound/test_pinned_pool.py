"""The pinned keep-alive pool under the Stripe client (ADR 0963): the same guarantees as the
pinned httpx transport (ADR 0700) — one resolution, every address checked, the connection
made to the checked address, TLS verified for the URL's name — and HTTP/1.1 done right:
kept-alive sockets reused, a socket the server closed replaced, chunked answers read,
headers that would break the framing refused before anything is sent."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.outbound.pinned import (
    BlockedDestination,
    PublicAddressGuard,
    StripeHostGuard,
)
from stripemeter_server.outbound.pinned_pool import PinnedPool

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nRequest-Id: req_1\r\n\r\n{}"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
CLOSING = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"


class Resolver:
    """A scripted DNS: each call answers the next list (the last repeats)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers, self.calls = list(answers), 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


@dataclass
class Server:
    """A raw HTTP/1.1 server on 127.0.0.1: scripted answers, one per request (the last
    repeats); it keeps every request's bytes and counts connections."""

    answers: list[bytes]
    port: int = 0
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    close_after_each: bool = False
    closed: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def answer(self) -> bytes:
        return self.answers[min(len(self.requests), len(self.answers)) - 1]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


@contextmanager
def raw_server(
    answers: list[bytes], *, tls: ssl.SSLContext | None = None, close_after_each: bool = False
) -> Iterator[Server]:
    server = Server(list(answers), close_after_each=close_after_each)
    listener = socket.create_server(("127.0.0.1", 0))
    server.port = listener.getsockname()[1]

    def serve(conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    request = _read_request(conn)
                except (OSError, ssl.SSLError):
                    return
                if not request:
                    return
                server.requests.append(request)
                conn.sendall(server.answer())
                if server.close_after_each:
                    conn.close()
                    server.closed.release()
                    return

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            server.connections += 1
            if tls is not None:
                try:
                    conn = tls.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):
                    conn.close()
                    continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server
    finally:
        listener.close()


def _pool(resolver: Resolver | None = None, **kwargs: ssl.SSLContext) -> PinnedPool:
    guard = PublicAddressGuard(allow_private=True, resolver=resolver or Resolver(["127.0.0.1"]))
    return PinnedPool(guard, timeout=5, **kwargs)


def test_the_connection_goes_to_the_checked_address_with_the_names_host() -> None:
    """The name resolves once per request to the checked address; the socket reaches it
    and the request carries the URL's Host (a rebinding answer is never connected to)."""
    with raw_server([OK]) as server:
        resolver = Resolver(["127.0.0.1"], ["10.9.9.9"])
        guard = PublicAddressGuard(allow_private=True, resolver=resolver)
        pool = PinnedPool(guard, timeout=5)
        status, body, headers = pool.request(
            "post", f"http://rebind.example:{server.port}/v1/x", {"A": "b"}, b"k=v"
        )
        pool.close()
    head = server.requests[0].decode()
    assert (status, body, headers["request-id"], resolver.calls) == (200, b"{}", "req_1", 1)
    assert head.startswith("POST /v1/x HTTP/1.1\r\n")
    assert f"\r\nHost: rebind.example:{server.port}\r\n" in head
    assert head.endswith("\r\nContent-Length: 3\r\n\r\nk=v")


def test_a_blocked_destination_never_connects() -> None:
    with raw_server([OK]) as server:
        pool = PinnedPool(StripeHostGuard(HostAllowList.parse("api.stripe.com")), timeout=5)
        with pytest.raises(BlockedDestination):
            pool.request("post", f"http://127.0.0.1:{server.port}/v1/x", {}, b"")
        private = PinnedPool(PublicAddressGuard(resolver=Resolver(["127.0.0.1"])), timeout=5)
        with pytest.raises(BlockedDestination):
            private.request("post", f"http://hooks.example:{server.port}/", {}, b"")
    assert (server.connections, server.requests) == (0, [])


def test_a_listed_name_resolving_to_a_private_address_is_blocked() -> None:
    guard = StripeHostGuard(HostAllowList.parse("api.stripe.com"), Resolver(["10.0.0.5"]))
    with pytest.raises(BlockedDestination):
        PinnedPool(guard, timeout=5).request("get", "https://api.stripe.com/v1/x", {}, None)


def test_a_kept_alive_socket_serves_the_next_request() -> None:
    with raw_server([OK]) as server:
        pool = _pool()
        for _ in range(3):
            assert pool.request("post", f"http://x.example:{server.port}/", {}, b"a")[0] == 200
        pool.close()
    assert (server.connections, len(server.requests)) == (1, 3)


def test_a_kept_alive_socket_is_reused_without_resolving_the_name_again() -> None:
    """The socket's address was checked when it was opened (ADR 0966): a request over it
    needs no second look-up, so a DNS answer per meter event is saved."""
    with raw_server([OK]) as server:
        resolver = Resolver(["127.0.0.1"])
        pool = _pool(resolver)
        for _ in range(3):
            assert pool.request("post", f"http://x.example:{server.port}/", {}, b"a")[0] == 200
        pool.close()
    assert (server.connections, len(server.requests), resolver.calls) == (1, 3, 1)


def test_a_new_connection_resolves_and_checks_the_name_again() -> None:
    """Once the server closed the kept-alive socket, the next request resolves the name
    again and the guard checks the new answer: ``localhost`` rebinding to a private
    address is blocked before anything is connected."""
    with raw_server([OK], close_after_each=True) as server:
        resolver = Resolver(["127.0.0.1"], ["10.9.9.9"])
        hosts = HostAllowList.parse(f"localhost:{server.port}")
        pool = PinnedPool(StripeHostGuard(hosts, resolver), timeout=5)
        url = f"http://localhost:{server.port}/v1/x"
        assert pool.request("post", url, {}, b"a")[0] == 200
        assert server.closed.acquire(timeout=10)  # the kept-alive socket is gone
        with pytest.raises(BlockedDestination):
            pool.request("post", url, {}, b"a")
        pool.close()
    assert (server.connections, len(server.requests), resolver.calls) == (1, 1, 2)


def test_head_requests_are_refused_before_anything_is_sent() -> None:
    """An answer to HEAD announces a body it does not carry; the pool sends no HEAD."""
    with raw_server([OK]) as server, pytest.raises(ValueError):
        _pool().request("head", f"http://x.example:{server.port}/", {}, None)
    assert server.connections == 0


def test_a_socket_the_server_closed_is_replaced_not_reused() -> None:
    with raw_server([OK], close_after_each=True) as server:
        pool = _pool()
        for _ in range(3):
            assert pool.request("post", f"http://x.example:{server.port}/", {}, b"a")[0] == 200
            assert server.closed.acquire(timeout=10)  # the server's close has happened
        pool.close()
    assert (server.connections, len(server.requests)) == (3, 3)


def test_connection_close_and_chunked_answers_are_read_whole() -> None:
    with raw_server([CHUNKED, CLOSING, OK]) as server:
        pool = _pool()
        url = f"http://x.example:{server.port}/"
        answers = [pool.request("get", url, {}, None)[1] for _ in range(3)]
        pool.close()
    assert answers == [b"abcde", b"ok", b"{}"]
    assert server.connections == 2  # the "Connection: close" answer's socket is not reused


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        ("/v1/x", {"Idempotency-Key": "a\r\nX-Injected: 1"}),
        ("/v1/x y", {}),
        ("/v1/x", {"A:B": "c"}),
    ],
)
def test_what_would_break_the_framing_is_refused_before_sending(
    target: str, headers: dict[str, str]
) -> None:
    with raw_server([OK]) as server, pytest.raises(ValueError):
        _pool().request("post", f"http://x.example:{server.port}{target}", headers, b"")
    assert server.requests == []


def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(("served", "ok"), [("pinned.example", True), ("other.example", False)])
def test_tls_to_the_pinned_address_verifies_the_urls_name(
    tmp_path: Path, served: str, ok: bool
) -> None:
    """The socket goes to the checked address, and TLS checks the certificate for the URL's
    host name (SNI), not for the address: a certificate for another name is refused."""
    cert, key = _certificate(tmp_path, served)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    with raw_server([OK], tls=tls) as server:
        pool = _pool(context=trusting)
        url = f"https://pinned.example:{server.port}/v1/x"
        if ok:
            assert pool.request("get", url, {}, None)[:2] == (200, b"{}")
        else:
            with pytest.raises(ssl.SSLCertVerificationError):
                pool.request("get", url, {}, None)
        pool.close()
    assert len(server.requests) == (1 if ok else 0)
