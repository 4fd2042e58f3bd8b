"""``GET /v1/usage/current``'s fast path reads its inputs in one statement (ADR 0941) and
answers byte for byte as the declared endpoint, which reads them through the repositories,
over a store with everything the answer depends on: metrics of several aggregations, a
customer's own billing anchor and time zone, a default price and a customer's override, an
early period close, open backfill sessions for one customer and for any, decimals with
trailing zeros and a negative adjustment, a customer ref outside ASCII — on both stores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.driver_statements import DriverStatement
from stripemeter_server.storage.unit_of_work import Store
from tests.support.app_client import Client, running_app

PRICE = {"model": "per_unit", "currency": "usd", "unitAmount": "0.0150"}
CUSTOMERS = ("cus_1", "cus_2", "cüs_ß", "cus_anchor", "nobody")
QUERIES = [
    *(f"customerRef={ref}" for ref in CUSTOMERS),
    "customerRef=cus_1&metric=calls",
    "customerRef=cus_2&metric=peak",
    "customerRef=cus_1&metric=missing",
    "customerRef=cus_1&tenantId=default",
]


def _ok(answer: Any) -> Any:
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    with running_app(store, clock, rate_limit_per_second=0.0) as running:
        http, headers = running.http, running.headers
        for code, aggregation in (("calls", "sum"), ("hits", "count"), ("peak", "max")):
            _ok(running.post("/v1/metrics", {"code": code, "aggregation": aggregation}))
        _ok(http.put("/v1/prices/calls", json=PRICE, headers=headers))
        override = {**PRICE, "unitAmount": "0.01"}
        _ok(http.put("/v1/customers/cus_2/prices/calls", json=override, headers=headers))
        body = {"anchorDay": 10, "timezone": "Europe/Berlin"}
        _ok(http.put("/v1/customers/cus_anchor", json=body, headers=headers))
        events = [
            {"metric": m, "customerRef": c, "quantity": q, "idempotencyKey": f"{m}-{c}-{q}"}
            for m in ("calls", "hits", "peak")
            for c in CUSTOMERS[:4]
            for q in ("30.50", "1.250", "7")
        ]
        _ok(running.post("/v1/events/ingest", {"events": events}))
        _ok(running.post("/v1/periods/close", {"customerRef": "cus_2", "metric": "hits"}))
        _ok(running.post("/v1/backfills", {"metric": "calls", "customers": ["cus_1"]}))
        _ok(running.post("/v1/backfills", {"metric": "peak"}))
        yield running


def _declared(client: Client, query: str) -> Any:
    """The same query with its customerRef repeated: the fast path declines it."""
    ref = query.split("&")[0]
    return client.http.get(f"/v1/usage/current?{query}&{ref}", headers=client.headers)


@pytest.mark.parametrize("query", QUERIES)
def test_the_one_statement_answer_is_the_declared_endpoints(client: Client, query: str) -> None:
    fast = client.http.get(f"/v1/usage/current?{query}", headers=client.headers)
    declared = _declared(client, query)
    assert fast.status_code == declared.status_code
    assert fast.headers["content-type"] == declared.headers["content-type"]
    if fast.status_code == 200:
        assert fast.content == declared.content
    else:
        assert _problem(fast) == _problem(declared)


def _problem(answer: Any) -> dict[str, Any]:
    return {k: v for k, v in answer.json().items() if k not in ("instance", "requestId")}


def test_the_fixture_covers_what_the_answer_depends_on(client: Client) -> None:
    """Guards the comparison above against an empty store: each input shows in an answer."""
    one = _ok(client.http.get("/v1/usage/current?customerRef=cus_1", headers=client.headers))
    two = _ok(client.http.get("/v1/usage/current?customerRef=cus_2", headers=client.headers))
    assert {m["metric"] for m in one["metrics"]} == {"calls", "hits", "peak"}
    assert len(one["heldBackfills"]) == 2 and len(two["heldBackfills"]) == 1
    assert any(m["status"] == "closed" for m in two["metrics"])
    assert one["metrics"][0]["cost"] != two["metrics"][0]["cost"]  # default price, override


def _statements(
    store: Store, monkeypatch: pytest.MonkeyPatch, send: Callable[[], Any]
) -> list[str]:
    """The statements ``send`` makes the server run: through SQLAlchemy (either engine) and
    on the driver (``DriverStatement``, ADR 0950: on a unit of work's connection, or on
    PostgreSQL's loop connections, ADR 0971) — the only ways a read sends one."""
    sent: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_: object) -> None:
        sent.append(statement)

    driven = DriverStatement.bound

    def on_driver(self: DriverStatement, dialect: Any, params: Any) -> Any:
        sql, args = driven(self, dialect, params)
        sent.append(sql)
        return sql, args

    engines = [e for e in (store.engine, store.loop_engine) if e is not None]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(DriverStatement, "bound", on_driver)
            send()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    return sent


@pytest.mark.parametrize(
    "path",
    [
        "/v1/usage/current?customerRef=cus_1",
        "/v1/usage/periods?customerRef=cus_1&metric=calls&from=2024-11-01T00:00:00Z&to=2025-03-01T00:00:00Z",
    ],
)
def test_a_read_is_one_statement(
    client: Client, store: Store, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Current usage: key stamp, metrics, customer, counters, closes, prices and sessions;
    periods: key stamp, metric, customer, counters, closes and sessions (ADR 0961) — one
    statement each (PostgreSQL reads in autocommit, ADR 0883; SQLite on its loop
    connection, without ``BEGIN``, ADR 0961)."""
    client.http.get(path, headers=client.headers)  # the key is cached from here on
    sent = _statements(
        store, monkeypatch, lambda: _ok(client.http.get(path, headers=client.headers))
    )
    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("SELECT")


def test_a_current_read_takes_no_connection_from_the_pool(client: Client, store: Store) -> None:
    """SQLite reads it on the event loop's own connection (ADR 0961), PostgreSQL awaits it
    on the loop's own connections (ADR 0971): the pool is not touched."""
    path = "/v1/usage/current?customerRef=cus_1"
    first = _ok(client.http.get(path, headers=client.headers))  # the key is cached from here
    taken: list[object] = []

    def checkout(*_: object) -> None:
        taken.append(_)

    event.listen(store.engine, "checkout", checkout)
    try:
        assert _ok(client.http.get(path, headers=client.headers)) == first
    finally:
        event.remove(store.engine, "checkout", checkout)
    assert taken == []
    assert (store.loop_reads() is not None) == (store.dialect == "postgresql")


def test_a_history_read_is_two_statements(
    client: Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """History (ADR 0967): the key stamp, the metric and the customer's record in one
    statement, then the ledger's totals per step — no ``BEGIN``, on either store."""
    path = "/v1/usage/history?customerRef=cus_1&metric=calls&" + WINDOW
    client.http.get(path, headers=client.headers)  # the key is cached from here on
    sent = _statements(
        store, monkeypatch, lambda: _ok(client.http.get(path, headers=client.headers))
    )
    assert len(sent) == 2 and all(s.lstrip().upper().startswith("SELECT") for s in sent)


WINDOW = "from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z"
WIDE = "from=2024-11-01T00:00:00Z&to=2025-03-01T00:00:00Z"
READS = [
    f"/v1/usage/periods?customerRef=cus_1&metric=calls&{WINDOW}",
    "/v1/usage/periods?customerRef=cus_2&metric=hits&" + WIDE,
    f"/v1/usage/periods?customerRef=cus_anchor&metric=peak&{WINDOW}&tenantId=default",
    f"/v1/usage/periods?customerRef=cus_1&metric=missing&{WINDOW}",
    "/v1/usage/periods?customerRef=cus_1&metric=calls&from=yesterday&to=2025-02-01T00:00:00Z",
    f"/v1/usage/history?customerRef=cus_1&metric=calls&{WINDOW}",
    f"/v1/usage/history?customerRef=cüs_ß&metric=peak&{WINDOW}&step=hour",
    f"/v1/usage/history?customerRef=cus_2&metric=calls&{WINDOW}&step=month&tenantId=default",
    f"/v1/usage/history?customerRef=cus_1&metric=calls&{WINDOW}&step=fortnight",
    f"/v1/usage/history?customerRef=cus_1&metric=calls&{WINDOW}&groupBy=nothing",
    f"/v1/usage/history?customerRef=cus_1&metric=calls&{WINDOW}&tenantId=other",
    f"/v1/usage/history?customerRef=cus_1&metric=calls&{WINDOW}&limit=5",  # FastAPI's own
]


@pytest.mark.parametrize("path", READS)
def test_periods_and_history_fast_paths_answer_as_the_declared_endpoints(
    client: Client, path: str
) -> None:
    fast = client.http.get(path, headers=client.headers)
    ref = path.split("?")[1].split("&")[0]
    declared = client.http.get(f"{path}&{ref}", headers=client.headers)  # repeated: declined
    assert fast.status_code == declared.status_code
    assert fast.headers["content-type"] == declared.headers["content-type"]
    if fast.status_code == 200:
        assert fast.content == declared.content
        assert fast.json()["data"]
    else:
        assert _problem(fast) == _problem(declared)
