"""Keep-alive connections to checked, pinned addresses, on the standard library (ADR 0963).

The Stripe pusher's v1 calls are bound by the client's CPU per request: httpx's layers
(request and response models, the transport chain, httpcore's pool and h11) cost more per
call than the meter event itself. ``PinnedPool`` keeps the guarantees of
:class:`~stripemeter_server.outbound.pinned.PinnedTransport` (ADR 0700) with less per call:
each request's destination is checked by the guard, which resolves a name once and checks
every address; the socket connects to the checked address, and the ``Host`` header and the
TLS name (SNI and the certificate check) stay the URL's host. A kept-alive socket is only
reused for the same checked address. The request leaves in one ``send`` (head and body);
the answer is read by the standard library's ``http.client.HTTPResponse``.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import select
import socket
import ssl
import threading
from collections.abc import Mapping
from email.message import Message

from stripemeter_server.domain.destinations import Destination, parse_destination
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.outbound.pinned import BlockedDestination, Guard

DEFAULT_PORTS = {"http": 80, "https": 443}
# Idle sockets kept per checked address: a push pass sends on 8 lanes at most.
MAX_IDLE = 16
# Parsed origins kept (one per account's API base in practice).
MAX_ORIGINS = 256
# What may not appear in a request target, a header name or a header value: a line break
# would let a value write headers of its own (header injection).
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_BAD_HEADER = re.compile(r"[\r\n\x00]")

_Key = tuple[str, str, int, str]


class PinnedPool:
    """``request`` sends one request to its checked address over a kept-alive socket.

    Thread-safe: a socket serves one request at a time (taken from the idle list under a
    lock, put back once its answer is read whole)."""

    def __init__(
        self, guard: Guard, *, timeout: float, context: ssl.SSLContext | None = None
    ) -> None:
        self._guard = guard
        self._timeout = timeout
        self._context = context or ssl.create_default_context()
        self._idle: dict[_Key, list[socket.socket]] = {}
        self._origins: dict[str, Destination] = {}
        self._lock = threading.Lock()

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, bytes, Message]:
        """Status, body and headers (case-insensitive) of one request; any failure raises
        (``BlockedDestination`` before anything is connected, ``OSError`` and
        ``http.client.HTTPException`` from the exchange)."""
        origin, target = _split(url)
        destination = self._destination(origin)
        address = self._guard(destination)
        head = _head(method.upper(), target, _host_header(destination), headers, body)
        key = (destination.scheme, str(address), destination.port, destination.host)
        sock = self._take(key)
        try:
            sock.sendall(head + body if body else head)
            response = http.client.HTTPResponse(sock, method=method.upper())
            response.begin()
            data = response.read()
        except BaseException:
            sock.close()
            raise
        if response.will_close:
            sock.close()
        else:
            self._give(key, sock)
        return response.status, data, response.msg

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for socks in idle.values():
            for sock in socks:
                sock.close()

    def _destination(self, origin: str) -> Destination:
        found = self._origins.get(origin)
        if found is None:
            try:
                found = parse_destination(origin, "url")
            except ValidationError as exc:
                raise BlockedDestination(exc.message) from None
            if len(self._origins) >= MAX_ORIGINS:
                self._origins.clear()
            self._origins[origin] = found
        return found

    def _take(self, key: _Key) -> socket.socket:
        with self._lock:
            socks = self._idle.get(key)
            while socks:
                sock = socks.pop()
                if _usable(sock):
                    return sock
                sock.close()
        scheme, address, port, host = key
        sock = socket.create_connection((address, port), timeout=self._timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                return self._context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return sock

    def _give(self, key: _Key, sock: socket.socket) -> None:
        with self._lock:
            socks = self._idle.setdefault(key, [])
            if len(socks) < MAX_IDLE:
                socks.append(sock)
                return
        sock.close()


def _split(url: str) -> tuple[str, str]:
    """``(scheme://authority, /path?query)`` of an absolute URL."""
    start = url.find("://")
    if start < 0:
        raise BlockedDestination("the URL is not absolute")
    slash = url.find("/", start + 3)
    if slash < 0:
        return url, "/"
    return url[:slash], url[slash:]


def _host_header(destination: Destination) -> str:
    host = destination.host
    if isinstance(destination.address, ipaddress.IPv6Address):
        host = f"[{host}]"
    if DEFAULT_PORTS.get(destination.scheme) == destination.port:
        return host
    return f"{host}:{destination.port}"


def _head(
    method: str, target: str, host: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The request line and headers, as ``http.client`` would write them, refused (not
    sent) when a target or header would break the framing."""
    if _BAD_TARGET.search(target) or _BAD_TARGET.search(method):
        raise ValueError("the request target has a control character or a space")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("host", "content-length", "accept-encoding", "transfer-encoding"):
            continue
        if _BAD_HEADER.search(name) or _BAD_HEADER.search(value) or ":" in name:
            raise ValueError("a header name or value would break the request's framing")
        lines.append(f"{name}: {value}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


def _usable(sock: socket.socket) -> bool:
    """A kept-alive socket the server has not closed (nothing to read while idle: a
    readable idle socket is at its end, or out of step)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
