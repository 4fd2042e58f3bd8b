"""A tiny router and request context: Stripe routes are matched by regex so faults and
inspection can name routes the same way (`POST /v1/billing/meter_events`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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


def list_envelope(
    items: list[Any], url: str, params: dict[str, Any], *, id_key: str = "id"
) -> dict[str, Any]:
    """Stripe's cursor pagination over an ordered list (newest first, as Stripe does)."""
    limit = int(params.get("limit") or 10)
    limit = max(1, min(limit, 100))
    after = params.get("starting_after")
    before = params.get("ending_before")
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
