"""A tiny router and request context: Stripe routes are matched by regex so faults and
inspection can name routes the same way (`POST /v1/billing/meter_events`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import StripeError

if TYPE_CHECKING:
    from stripe_emulator.engine import Emulator


@dataclass
class Reply:
    """A handler result when the default (200, JSON) is not enough."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Req:
    """What a handler sees: decoded params, path params, auth and the emulator."""

    method: str
    path: str
    params: dict[str, Any]
    path_params: dict[str, str]
    headers: dict[str, str]
    emu: Emulator
    api_key: str | None = None
    stripe_version: str | None = None
    query: str = ""
    # (code, message) of an injected `report` fault: the meter events of this request are
    # refused asynchronously (meter_events.ingest).
    reported: tuple[str, str] | None = None

    @property
    def now(self) -> int:
        return self.emu.clock.now()

    @property
    def v2(self) -> bool:
        return self.path.startswith("/v2/")


Handler = Callable[[Req], Any]
AsyncHandler = Callable[[Req], Awaitable[Any]]


@dataclass
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler | AsyncHandler
    is_async: bool = False


def _compile(pattern: str) -> re.Pattern[str]:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile("^" + regex + "$")


class Router:
    """Ordered (method, pattern) → handler table."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append(Route(method.upper(), pattern, _compile(pattern), handler))

    def add_async(self, method: str, pattern: str, handler: AsyncHandler) -> None:
        self.routes.append(
            Route(method.upper(), pattern, _compile(pattern), handler, is_async=True)
        )

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None


def page_limit(params: dict[str, Any]) -> int:
    """`limit` as Stripe reads it: an integer from 1 to 100, default 10; anything else is a
    400 (Stripe refuses 0 and 1000 rather than clamping them)."""
    raw = params.get("limit")
    if raw is None or raw == "":
        return 10
    if not isinstance(raw, str | int) or not str(raw).lstrip("-").isdigit():
        raise StripeError(
            400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param="limit"
        )
    limit = int(raw)
    if not 1 <= limit <= 100:
        raise StripeError(400, "Invalid limit: must be between 1 and 100", param="limit")
    return limit


def cursor(params: dict[str, Any], key: str) -> str | None:
    """A pagination cursor: an object id string, or absent."""
    raw = params.get(key)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise StripeError(400, f"Invalid string: {key}", param=key)
    return raw


def list_envelope(
    items: list[Any], url: str, params: dict[str, Any], *, id_key: str = "id"
) -> dict[str, Any]:
    """Stripe's cursor pagination over an ordered list (newest first, as Stripe does)."""
    limit = page_limit(params)
    after = cursor(params, "starting_after")
    before = cursor(params, "ending_before")
    if after:
        ids = [i.get(id_key) for i in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[:limit]
        has_more = len(items) > limit
    elif before:
        ids = [i.get(id_key) for i in items]
        items = items[: ids.index(before)] if before in ids else []
        page = items[-limit:]
        has_more = len(items) > limit
    else:
        page = items[:limit]
        has_more = len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}
