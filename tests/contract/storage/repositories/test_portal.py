"""PortalRepository, DashboardSessionsRepository and the dashboard's reads: tokens found by
id with their key, revoked once; settings whose origins are replaced wholesale; customers'
alert rules; sessions found only while their key exists; customer pages, closing periods,
newest events and the tenant's push counts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord, KeyStamp
from stripemeter_server.service.dashboard.ports import (
    ClosingPeriod,
    SessionRecord,
    SessionWithKey,
    TenantPushStats,
)
from stripemeter_server.service.portal.ports import (
    PortalSettingsRecord,
    PortalTokenRecord,
    TokenState,
    TokenWithKey,
)
from stripemeter_server.service.stripe_sync.ports.pushes import FAILED, SENT
from tests.contract.storage.repositories.conftest import TENANT, AnyStore
from tests.contract.storage.repositories.test_operations import key
from tests.contract.storage.repositories.test_pushes import push


def token(token_id: str, created_us: int, customer: str = "cus", **changes: Any) -> Any:
    row = PortalTokenRecord(
        TENANT, token_id, customer, ("calls",), frozenset({"read"}), "sha", "k1", created_us,
        10_000, None,
    )  # fmt: skip
    return replace(row, **changes)


def settings(*origins: str, updated_us: int = 1) -> PortalSettingsRecord:
    return PortalSettingsRecord(origins, ("https://app.test",), '{"cssVariables":{}}', updated_us)


def with_key(store: AnyStore) -> None:
    with store.unit_of_work() as uow:
        uow.api_keys.add(key("k1", 1))
        uow.commit()


def test_a_token_is_found_by_id_with_its_key(any_store: AnyStore) -> None:
    with_key(any_store)
    with any_store.unit_of_work(TENANT) as uow:
        uow.portal.add_token(token("t1", 5))
        uow.portal.add_token(token("t2", 6, minted_by="gone", metrics=None))
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        found = uow.portal.token_with_key("t1")
        orphan = uow.portal.token_with_key("t2")
        missing = uow.portal.token_with_key("t9")
    assert found == TokenWithKey(token("t1", 5), None, None, True)
    assert orphan == TokenWithKey(token("t2", 6, minted_by="gone", metrics=None), None, None, False)
    assert missing is None


def test_tokens_are_listed_newest_first_and_revoked_once(any_store: AnyStore) -> None:
    with_key(any_store)
    with any_store.unit_of_work(TENANT) as uow:
        for n, at, customer in ((1, 5, "a"), (2, 7, "b"), (3, 7, "a"), (4, 9, "a")):
            uow.portal.add_token(token(f"t{n}", at, customer))
        once = uow.portal.revoke_token("t1", 20)
        twice = uow.portal.revoke_token("t1", 21)
        minted = uow.portal.revoke_minted_by(TENANT, "k1", 30)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        every = [t.token_id for t in uow.portal.tokens(None, 10)]
        of_a = [t.token_id for t in uow.portal.tokens("a", 2)]
        state = uow.portal.token_state(TENANT, "t1")
        missing = uow.portal.token_state(TENANT, "t9")
    assert (once, twice, minted) == (True, False, ["t2", "t3", "t4"])
    assert (every, of_a, missing) == (["t4", "t2", "t3", "t1"], ["t4", "t3"], None)
    assert state == TokenState(20, KeyStamp(0, None, None), ())


def test_a_token_state_carries_its_tenant_origins_in_one_read(any_store: AnyStore) -> None:
    """The re-check's single statement (ADR 0880): the token's revocation and key stamp and
    every origin of its own tenant, sorted, none of another tenant's."""
    with_key(any_store)
    with any_store.unit_of_work(TENANT) as uow:
        uow.portal.add_token(token("t1", 5))
        uow.portal.put_settings(settings("https://b.test", "https://a.test", "https://c.test"))
        uow.commit()
    with any_store.unit_of_work("other") as uow:
        uow.portal.put_settings(settings("https://z.test"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        live = uow.portal.token_state(TENANT, "t1")
        stamp = uow.api_keys.stamp(TENANT)
    with any_store.unit_of_work(TENANT) as uow:
        uow.portal.revoke_token("t1", 40)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        revoked = uow.portal.token_state(TENANT, "t1")
        elsewhere = uow.portal.token_state("other", "t1")
    origins = ("https://a.test", "https://b.test", "https://c.test")
    assert live == TokenState(None, stamp, origins)
    assert revoked == TokenState(40, stamp, origins)
    assert elsewhere is None


def test_settings_replace_the_origins_wholesale(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        before = uow.portal.settings()
        uow.portal.put_settings(settings("https://b.test", "https://a.test"))
        uow.portal.put_settings(settings("https://c.test", "https://a.test", updated_us=2))
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        origins = uow.portal.origins_of(TENANT)
        anywhere = [
            uow.portal.origin_allowed_anywhere(o) for o in ("https://a.test", "https://b.test")
        ]
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = uow.portal.settings()
    assert before is None
    assert kept == settings("https://a.test", "https://c.test", updated_us=2)
    assert (origins, anywhere) == (("https://a.test", "https://c.test"), [True, False])


def test_customers_alert_rules_are_theirs_alone(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.portal.add_alert_rule("a", "r2", 5)
        uow.portal.add_alert_rule("a", "r1", 5)
        uow.portal.add_alert_rule("b", "r3", 1)
        not_theirs = uow.portal.remove_alert_rule("b", "r1")
        removed = uow.portal.remove_alert_rule("a", "r2")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        rules = (uow.portal.alert_rules("a"), uow.portal.alert_rules("b"))
    assert (not_theirs, removed, rules) == (False, True, (["r1"], ["r3"]))


def session(session_id: str, expires_us: int, key_id: str = "k1") -> SessionRecord:
    return SessionRecord(TENANT, session_id, key_id, "csrf", 1, expires_us)


def test_a_session_is_found_with_its_key_while_the_key_exists(any_store: AnyStore) -> None:
    with_key(any_store)
    with any_store.unit_of_work() as uow:
        uow.dashboard_sessions.add(session("s1", 100))
        uow.dashboard_sessions.add(session("s2", 100, key_id="gone"))
        uow.api_keys.revoke(TENANT, "k1", 50)
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        found = uow.dashboard_sessions.find("s1")
        keyless = uow.dashboard_sessions.find("s2")
    assert found == SessionWithKey(session("s1", 100), frozenset({"read", "write"}), 50, None)
    assert keyless is None


def test_sessions_are_deleted_one_by_key_or_when_expired(any_store: AnyStore) -> None:
    with_key(any_store)
    with any_store.unit_of_work() as uow:
        for n, expires in ((1, 10), (2, 20), (3, 30), (4, 99)):
            uow.dashboard_sessions.add(session(f"s{n}", expires, "k1" if n < 4 else "k2"))
        one = uow.dashboard_sessions.delete("s1"), uow.dashboard_sessions.delete("s1")
        expired = uow.dashboard_sessions.delete_expired(30, 1)
        uow.commit()
    with any_store.unit_of_work() as uow:
        by_key = uow.dashboard_sessions.delete_for_key(TENANT, "k1")
        rest = uow.dashboard_sessions.delete_expired(1_000, 10)
        uow.commit()
    assert (one, expired, by_key, rest) == ((True, False), 1, 1, 1)


def test_the_dashboard_pages_customers_and_periods_closing(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        ends = {("calls", "ab", 0): 100, ("calls", "ac", 0): 100, ("tokens", "b", 50): 200}
        locked = uow.counters.lock(ends, 1)
        uow.counters.save(locked.values(), 1)
        for ref in ("aa", "ab", "z"):
            uow.customers.upsert(CustomerRecord(ref, None, None, None, 1, 1))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        reads = uow.dashboard
        prefixed = reads.customer_refs(prefix="a", after="aa", limit=5)
        every = reads.customer_refs(prefix="", after=None, limit=3)
        known = (reads.customer_known("b"), reads.customer_known("z"), reads.customer_known("q"))
        closing = reads.periods_closing(50, 200, 10)
        first = reads.periods_closing(50, 200, 1)
    assert (prefixed, every, known) == (["ab", "ac"], ["aa", "ab", "ac"], (True, True, False))
    assert closing == [ClosingPeriod("calls", 0, 100, 2), ClosingPeriod("tokens", 50, 200, 1)]
    assert first == closing[:1]


def test_the_dashboard_reads_newest_events_and_push_counts(any_store: AnyStore) -> None:
    def entry(key: str, metric: str, customer: str) -> LedgerEntry:
        return LedgerEntry(
            key, metric, customer, Decimal(1), 10, 10, None, None, f"fp-{key}", False, False,
            None, None, None,
        )  # fmt: skip

    with any_store.unit_of_work(TENANT) as uow:
        uow.events.insert_new([entry("e1", "calls", "a")])
        uow.events.insert_new([entry("e2", "tokens", "a")])
        uow.events.insert_new([entry("e3", "calls", "b")])
        locked = uow.counters.lock({("calls", "a", 0): 100}, 1)
        for counter in locked.values():
            counter.state = CounterState(count=1)
        uow.counters.save(locked.values(), 1)
        pushes = [push("p1", created_us=9), push("p2", created_us=4), push("p3", status=FAILED)]
        uow.pushes.add_many([*pushes, push("p4", status=SENT, created_us=1)])
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        reads = uow.dashboard

        def keys(
            metric: str | None = None, customer: str | None = None, before: int | None = None
        ) -> list[str]:
            found = reads.events_newest_first(
                metric=metric, customer_ref=customer, before_seq=before, limit=10
            )
            return [e.idempotency_key for e in found]

        newest = keys()
        by_metric, of_a = keys(metric="calls"), keys(customer="a")
        e3 = uow.events.get("e3")
        page = keys(before=e3.seq if e3 else None)[:1]
        stats = reads.push_stats()
    assert (newest, by_metric, of_a, page) == (["e3", "e2", "e1"], ["e3", "e1"], ["e1"], ["e2"])
    assert stats == TenantPushStats(2, 1, 4)
