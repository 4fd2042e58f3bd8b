"""The fast-path dispatch table (ADR 0883) picks the route the app's router would pick.

The table is consulted before the router, so for every path it answers, the first of the
app's routes (in the order the app includes them) that matches the method and path must be
that same fast-path route; everything else must be left to the router.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match

from stripemeter_server.api.app import route_routers
from stripemeter_server.api.fast_dispatch import FastDispatch
from stripemeter_server.api.fast_path import FastPathRoute

ROUTES = [route for router in route_routers() for route in router.routes]
FAST = [route for route in ROUTES if isinstance(route, FastPathRoute)]
# Every literal segment of every route: a parameter probed with each of them finds any
# other route whose literal segment sits where the fast route has a parameter.
WORDS = sorted({part for route in ROUTES for part in route.path.split("/") if "{" not in part})


def _table() -> FastDispatch:
    async def router(*_: object) -> None:
        raise AssertionError("not called")

    return FastDispatch(router, ROUTES)


def _probes(route: FastPathRoute) -> list[str]:
    paths = {route.path}
    for word in [*WORDS, "x"]:
        if word:
            paths.add("/".join(word if "{" in p else p for p in route.path.split("/")))
    return sorted(p for p in paths if "{" not in p)


def _router_picks(method: str, path: str) -> APIRoute | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in ROUTES:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            assert isinstance(route, APIRoute)
            return route
    return None


def test_every_fast_path_route_is_in_the_table() -> None:
    assert {route.path for route in FAST} == {
        "/v1/usage/current",
        "/v1/usage/periods",
        "/v1/usage/history",
        "/v1/customers/{customer_ref}/entitlements/{feature}",
        "/v1/entitlements/check",
        "/v1/entitlements/reservations",
        "/portal/v1/history",
        "/portal/v1/upcoming-invoice",
        "/portal/v1/usage",  # the portal's parameterless reads (ADR 0937)
        "/portal/v1/projection",
        "/portal/v1/entitlements",
        "/portal/v1/credits",
        "/portal/v1/alerts",
    }
    table = _table()
    for route in FAST:
        for method in route.methods or ():
            found = table.find(method, _probes(route)[0])
            assert found is not None and found[0] is route


@pytest.mark.parametrize("route", FAST, ids=lambda r: r.path)
def test_the_table_picks_what_the_router_picks(route: FastPathRoute) -> None:
    table = _table()
    for method in route.methods or ():
        for path in _probes(route):
            found = table.find(method, path)
            picked = _router_picks(method, path)
            assert found is not None, path
            assert found[0] is picked, (method, path, picked and picked.path)


def test_the_table_reads_path_parameters_as_the_router_does() -> None:
    found = _table().find("GET", "/v1/customers/cus 1/entitlements/tokens")
    assert found is not None
    assert found[1] == {"customer_ref": "cus 1", "feature": "tokens"}
    scope = {"type": "http", "method": "GET", "path": "/v1/customers/cus 1/entitlements/tokens"}
    _, child = found[0].matches(scope)
    assert child["path_params"] == found[1]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("HEAD", "/v1/customers/cus_1/entitlements/tokens"),
        ("PUT", "/v1/customers/cus_1/entitlements/tokens"),
        ("GET", "/v1/customers/cus_1/entitlements/tokens/"),
        ("GET", "/v1/customers//entitlements/tokens"),
        ("GET", "/v1/customers/cus_1/entitlements/tokens/grant"),
        ("GET", "/v1/customers/cus_1/entitlements"),
        ("POST", "/v1/entitlements/check/"),
        ("GET", "/v1/entitlements/check"),
        ("POST", "/v1/entitlements/reservations/rsv_1/commit"),
        ("GET", "/v1/usage/current/"),
        ("GET", "/v1/usage/periods/"),
        ("POST", "/v1/usage/projection"),
    ],
)
def test_anything_else_is_left_to_the_router(method: str, path: str) -> None:
    assert _table().find(method, path) is None
