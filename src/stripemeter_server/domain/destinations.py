"""Outbound destinations: which URLs the server may be told to call (ADR 0700).

Two surfaces let a tenant admin name a URL the server then calls: a Stripe account's
``apiBase`` and an alert rule's ``webhookUrl``. Both are parsed here into a
:class:`Destination` whose host is either a DNS name or an IP address in its one canonical
form: the other spellings resolvers accept for an address (``2130706433``, ``0x7f.1``,
``0177.0.0.1``, ``127.1``) are refused, as is userinfo (``user@host``), so what is checked
is what is connected to. Whether an *address* may be reached is :func:`blocked_reason`; the
operator's list of Stripe hosts is :class:`HostAllowList`. Pure: resolving a name is the
adapter's job (``outbound/``), which checks every resolved address with the same rules.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from stripemeter_server.domain.errors import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}
# Stripe's own API hosts (api, files, meter events): the allow-list's default.
STRIPE_API_HOSTS = ("api.stripe.com", "files.stripe.com", "meter-events.stripe.com")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)
_CANONICAL_V4 = re.compile(
    r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    r"(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}",
    re.ASCII,
)
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


@dataclass(frozen=True, slots=True)
class Destination:
    """A parsed outbound URL: scheme, host (lower-case name, or an address), port."""

    scheme: str
    host: str
    port: int
    address: IPAddress | None  # set when the host is an IP literal

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if isinstance(self.address, ipaddress.IPv6Address) else self.host
        return f"{host}:{self.port}"


def parse_destination(url: str, field: str) -> Destination:
    """``url`` as a :class:`Destination`, or ``ValidationError`` naming ``field``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid(field, "must be an absolute http(s) URL with a valid port") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        raise _invalid(field, "must be an absolute http(s) URL")
    if "@" in parts.netloc or parts.username is not None:
        raise _invalid(field, "must not carry a user name or password")
    raw_host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    host, address = parse_host(raw_host, field)
    return Destination(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme], address)


def parse_host(raw: str, field: str) -> tuple[str, IPAddress | None]:
    """A DNS name (lower-cased) or an IP literal in canonical form; anything else refused."""
    if raw.startswith("[") and raw.endswith("]"):
        try:
            v6 = ipaddress.IPv6Address(raw[1:-1])
        except ValueError:
            raise _invalid(field, "has an invalid IPv6 address") from None
        return str(v6), v6
    host = raw.lower().rstrip(".")
    if _CANONICAL_V4.fullmatch(host):
        v4 = ipaddress.IPv4Address(host)
        return str(v4), v4
    if _is_numeric_form(host):
        raise _invalid(
            field,
            "must write an IP address as four decimal numbers "
            "(a.b.c.d) or a bracketed IPv6 address",
        )
    labels = host.split(".")
    if (
        len(host) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise _invalid(field, "must name a valid host")
    return host, None


def _is_numeric_form(host: str) -> bool:
    """True for the other spellings of an IPv4 address that resolvers accept."""
    try:
        socket.inet_aton(host)
    except (OSError, ValueError):
        return False
    return True


def blocked_reason(address: IPAddress) -> str | None:
    """Why an address is not a public destination (loopback, private, link-local,
    unspecified, multicast, reserved…), or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return blocked_reason(address.ipv4_mapped)
    for flag, reason in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(address, flag):
            return f"a {reason} address"
    if not address.is_global:
        return "not a public address"
    return None


def is_local_name(host: str) -> bool:
    """``localhost`` and its sub-domains, which resolve to loopback by definition."""
    return host in _LOCAL_NAMES or host.endswith(".localhost")


@dataclass(frozen=True, slots=True)
class AllowedHost:
    host: str
    port: int | None  # None: the scheme's default port only


@dataclass(frozen=True, slots=True)
class HostAllowList:
    """The operator's ``STRIPEMETER_STRIPE_API_HOSTS``: ``host`` (default port of the URL's
    scheme) or ``host:port`` entries; host names are matched exactly, lower-case."""

    entries: tuple[AllowedHost, ...]

    @classmethod
    def parse(cls, text: str, *, extra: tuple[str, ...] = ()) -> HostAllowList:
        """From the comma-separated setting, plus ``extra`` URLs the operator configured
        elsewhere (the environment's ``STRIPEMETER_STRIPE_API_BASE``, ``serve``'s emulator)."""
        entries = [_entry(item.strip()) for item in text.split(",") if item.strip()]
        for url in extra:
            found = parse_destination(url, "apiBase")
            entries.append(AllowedHost(found.host, found.port))
        return cls(tuple(entries))

    @classmethod
    def of_urls(cls, *urls: str) -> HostAllowList:
        """Exactly the hosts (and ports) of these base URLs (a local emulator's)."""
        return cls.parse("", extra=urls)

    def allows(self, destination: Destination) -> bool:
        default = DEFAULT_PORTS[destination.scheme]
        return any(
            entry.host == destination.host and (entry.port or default) == destination.port
            for entry in self.entries
        )

    def literal_allowed(self, destination: Destination) -> bool:
        """True when the operator listed this very address (e.g. ``127.0.0.1:12111``)
        or ``localhost``: then a non-public address is what they meant to reach."""
        return self.allows(destination) and (
            destination.address is not None or is_local_name(destination.host)
        )

    def describe(self) -> str:
        def shown(entry: AllowedHost) -> str:
            host = f"[{entry.host}]" if ":" in entry.host else entry.host
            return host if entry.port is None else f"{host}:{entry.port}"

        return ", ".join(shown(e) for e in self.entries) or "(none)"


def _entry(item: str) -> AllowedHost:
    field = "STRIPEMETER_STRIPE_API_HOSTS"
    host, port = item, None
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        host = f"[{host}]"
        port = rest.removeprefix(":") or None
    elif item.count(":") == 1:
        host, port = item.split(":")
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise _invalid(field, f"has an invalid port in {item!r}")
    name, _ = parse_host(host, field)
    return AllowedHost(name, None if port is None else int(port))


def _invalid(field: str, reason: str) -> ValidationError:
    return ValidationError(f"{field} {reason}", code="invalid_destination", field=field)
