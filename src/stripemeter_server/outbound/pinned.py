"""An httpx transport that connects only to checked, pinned addresses (ADR 0700).

``handle_request`` parses the request's URL, asks a guard for the address to connect to
(the guard resolves the name once and checks every address it gets), and sends the request
to that address with the original ``Host`` header and, for https, the name as SNI so the
certificate is still verified for the name. Nothing is resolved a second time by the
connection, so what was checked is what is reached.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from stripemeter_server.domain.destinations import (
    Destination,
    HostAllowList,
    IPAddress,
    blocked_reason,
    is_local_name,
    parse_destination,
)
from stripemeter_server.domain.errors import ValidationError

Resolver = Callable[[str, int], list[str]]


class BlockedDestination(httpx.ConnectError):
    """The destination may not be reached from this server; never retried as a blip."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (TCP), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpx.ConnectError(f"the host name does not resolve ({type(exc).__name__})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _addresses(destination: Destination, resolver: Resolver) -> list[IPAddress]:
    import ipaddress

    if destination.address is not None:
        return [destination.address]
    found = [
        ipaddress.ip_address(a.split("%", 1)[0])
        for a in resolver(destination.host, destination.port)
    ]
    if not found:
        raise httpx.ConnectError("the host name does not resolve")
    return found


@dataclass(frozen=True)
class PublicAddressGuard:
    """Alert webhooks: every resolved address must be public, unless private ones are
    allowed (``STRIPEMETER_ALLOW_PRIVATE_WEBHOOKS``); the first is pinned."""

    allow_private: bool = False
    resolver: Resolver = resolve

    def __call__(self, destination: Destination) -> IPAddress:
        addresses = _addresses(destination, self.resolver)
        if not self.allow_private:
            for address in addresses:
                reason = blocked_reason(address)
                if reason is not None:
                    raise BlockedDestination(f"the destination resolves to {reason}")
        return addresses[0]


@dataclass(frozen=True)
class StripeHostGuard:
    """Stripe calls: the host must be on the operator's allow-list; a listed name must
    resolve to public addresses only (``localhost`` to loopback only); a listed address is
    reached as listed."""

    allowed: HostAllowList
    resolver: Resolver = resolve

    def __call__(self, destination: Destination) -> IPAddress:
        if not self.allowed.allows(destination):
            raise BlockedDestination(
                f"{destination.authority} is not on the Stripe API host "
                "allow-list (STRIPEMETER_STRIPE_API_HOSTS)"
            )
        addresses = _addresses(destination, self.resolver)
        if destination.address is not None:
            return destination.address
        local = is_local_name(destination.host)
        for address in addresses:
            if local and not address.is_loopback:
                raise BlockedDestination("localhost resolves to a non-loopback address")
            reason = None if local else blocked_reason(address)
            if reason is not None:
                raise BlockedDestination(f"{destination.host} resolves to {reason}")
        return addresses[0]


Guard = Callable[[Destination], IPAddress]


class PinnedTransport(httpx.BaseTransport):
    """Checks and pins each request's destination, then sends it with httpx's transport."""

    def __init__(self, guard: Guard, *, verify: ssl.SSLContext | bool = True) -> None:
        self._guard = guard
        self._inner = httpx.HTTPTransport(verify=verify)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            destination = parse_destination(str(request.url), "url")
        except ValidationError as exc:
            raise BlockedDestination(exc.message, request=request) from None
        address = self._guard(destination)
        if destination.address is not None:
            # An address in the URL is reached as written (the guard checked it): the
            # request goes as it is, without a copy per call (the pusher's hot path).
            return self._inner.handle_request(request)
        extensions: dict[str, Any] = dict(request.extensions)
        if destination.scheme == "https" and destination.address is None:
            extensions["sni_hostname"] = destination.host
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=str(address)),
            headers=request.headers,
            stream=request.stream,
            extensions=extensions,
        )
        return self._inner.handle_request(pinned)

    def close(self) -> None:
        self._inner.close()


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing: Stripe and alert receivers authenticate by header, and
    parsing each response's headers into a cookie jar cost ~9% of a meter event's call."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessClient(httpx.Client):
    """An httpx client whose responses' cookies are dropped, never sent back."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None


def pinned_client(
    guard: Guard,
    *,
    timeout: float,
    verify: ssl.SSLContext | bool = True,
) -> httpx.Client:
    """An httpx client whose every request goes through :class:`PinnedTransport` (no
    proxies from the environment, no redirects followed)."""
    return _CookielessClient(
        transport=PinnedTransport(guard, verify=verify),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def failure_category(exc: BaseException) -> str:
    """What the deliveries view may say about a failed call: ``blocked``, ``timeout``,
    ``tls`` or ``refused`` (every other transport failure: the socket-level details would
    tell a prober which ports are open)."""
    if isinstance(exc, BlockedDestination):
        return "blocked"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in str(seen) or "CERTIFICATE" in str(seen):
            return "tls"
        seen = seen.__cause__ or seen.__context__
    return "refused"
