"""Keep-alive connections to checked, pinned addresses, on the standard library (ADR 0963,
0966).

The Stripe pusher's v1 calls are bound by the client's CPU per request: httpx's layers
(request and response models, the transport chain, httpcore's pool and h11) cost more per
call than the meter event itself. ``PinnedPool`` keeps the guarantees of
:class:`~stripemeter_server.outbound.pinned.PinnedTransport` (ADR 0700) with less per call:
a new connection's destination is checked by the guard, which resolves a name once and
checks every address; the socket connects to the checked address, and the ``Host`` header
and the TLS name (SNI and the certificate check) stay the URL's host. A kept-alive socket
serves later requests to the same origin (scheme, host, port) without a second resolution
(ADR 0966): the address it is connected to was checked when it was opened, and a guard's
rules do not change while the pool lives; a name is resolved and checked again whenever a
new connection is needed. The request leaves in one ``send`` (head and body); the answer
is read by ``httptools`` (``answers.py``).
"""

from __future__ import annotations

import ipaddress
import re
import select
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from stripemeter_server.domain.destinations import Destination, parse_destination
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.outbound.answers import Headers, read_answer
from stripemeter_server.outbound.pinned import BlockedDestination, Guard

DEFAULT_PORTS = {"http": 80, "https": 443}
# Idle sockets kept per origin: a push pass sends on 8 lanes at most.
MAX_IDLE = 16
# Parsed origins kept (one per account's API base in practice).
MAX_ORIGINS = 256
# What may not appear in a request target, a header name or a header value: a line break
# would let a value write headers of its own (header injection).
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_BAD_NAME = re.compile(r"[\r\n\x00:]")
# Headers the pool writes itself, whatever the caller passes.
_OWN_HEADERS = frozenset(("host", "content-length", "accept-encoding", "transfer-encoding"))

_Key = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class _Origin:
    """A parsed ``scheme://authority``: where its sockets are kept, its ``Host`` header."""

    destination: Destination
    key: _Key
    host: str


class PinnedPool:
    """``request`` sends one request to a checked address over a kept-alive socket.

    Thread-safe: a socket serves one request at a time (taken from the idle list under a
    lock, put back once its answer is read whole)."""

    def __init__(
        self, guard: Guard, *, timeout: float, context: ssl.SSLContext | None = None
    ) -> None:
        self._guard = guard
        self._timeout = timeout
        self._context = context or ssl.create_default_context()
        self._idle: dict[_Key, list[socket.socket]] = {}
        self._origins: dict[str, _Origin] = {}
        self._lock = threading.Lock()

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, bytes, Headers]:
        """Status, body and headers (case-insensitive) of one request; any failure raises
        (``BlockedDestination`` before anything is connected, ``OSError`` from the
        exchange: the socket's own, or ``AnswerError`` for a broken answer)."""
        verb = method.upper()
        if verb == "HEAD":  # its answer's length describes a body that is not sent
            raise ValueError("HEAD requests are not sent by this pool")
        authority, target = _split(url)
        origin = self._origin(authority)
        head = _head(verb, target, origin.host, headers, body)
        sock = self._take(origin.key) or self._connect(origin)
        try:
            sock.sendall(head + body if body else head)
            status, data, found, reusable = read_answer(sock)
        except BaseException:
            sock.close()
            raise
        if reusable:
            self._give(origin.key, sock)
        else:
            sock.close()
        return status, data, found

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for socks in idle.values():
            for sock in socks:
                sock.close()

    def _origin(self, authority: str) -> _Origin:
        found = self._origins.get(authority)
        if found is None:
            try:
                destination = parse_destination(authority, "url")
            except ValidationError as exc:
                raise BlockedDestination(exc.message) from None
            key = (destination.scheme, destination.host, destination.port)
            found = _Origin(destination, key, _host_header(destination))
            if len(self._origins) >= MAX_ORIGINS:
                self._origins.clear()
            self._origins[authority] = found
        return found

    def _take(self, key: _Key) -> socket.socket | None:
        """An idle socket of the origin the server has not closed, if any."""
        with self._lock:
            socks = self._idle.get(key)
            while socks:
                sock = socks.pop()
                if _usable(sock):
                    return sock
                sock.close()
        return None

    def _connect(self, origin: _Origin) -> socket.socket:
        """A new socket to the address the guard checks now (``BlockedDestination`` before
        anything is connected)."""
        address = self._guard(origin.destination)
        sock = socket.create_connection((str(address), origin.key[2]), timeout=self._timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.key[0] == "https":
                return self._context.wrap_socket(sock, server_hostname=origin.key[1])
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
    sent) when a target or header would break the framing (the names and the values are
    each checked in one search)."""
    if _BAD_TARGET.search(target) or _BAD_TARGET.search(method):
        raise ValueError("the request target has a control character or a space")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    names: list[str] = []
    values: list[str] = []
    for name, value in headers.items():
        if name.lower() in _OWN_HEADERS:
            continue
        names.append(name)
        values.append(value)
        lines.append(f"{name}: {value}")
    if _BAD_NAME.search("".join(names)) or _BAD_VALUE.search("".join(values)):
        raise ValueError("a header name or value would break the request's framing")
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
