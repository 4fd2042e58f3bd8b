"""ApiKeysRepository, RateLimitRepository, HeartbeatRepository, GaugesRepository: keys
found by hash, revoked or given a grace end once, their stamp; buckets created full on
first lock and configured without losing their level; a heartbeat's upsert; the open
periods of every tenant. A bucket's ``now_us`` is the database's clock and is not compared."""

from __future__ import annotations

from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord, KeyStamp
from stripemeter_server.service.operations.ports import Heartbeat
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def key(key_id: str, created_us: int, tenant: str = TENANT) -> ApiKeyRecord:
    return ApiKeyRecord(
        tenant, key_id, f"hash-{tenant}-{key_id}", "sm_", frozenset({"read", "write"}), None,
        created_us, None,
    )  # fmt: skip


def test_keys_are_found_by_hash_and_listed_by_tenant_then_age(any_store: AnyStore) -> None:
    with any_store.unit_of_work() as uow:
        for record in (key("k2", 2), key("k1", 5), key("k0", 1, "zeta")):
            uow.api_keys.add(record)
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        found, missing = uow.api_keys.by_hash("hash-acme-k1"), uow.api_keys.by_hash("nope")
        every = [(k.tenant_id, k.key_id) for k in uow.api_keys.list()]
        mine = [k.key_id for k in uow.api_keys.list(TENANT)]
    assert (found, missing, mine) == (key("k1", 5), None, ["k2", "k1"])
    assert every == [(TENANT, "k2"), (TENANT, "k1"), ("zeta", "k0")]


def test_a_key_is_revoked_or_expired_once_and_the_stamp_counts_it(any_store: AnyStore) -> None:
    with any_store.unit_of_work() as uow:
        uow.api_keys.add(key("k1", 1))
        uow.api_keys.add(key("k2", 2))
        before = uow.api_keys.stamp(TENANT)
        moves = (
            uow.api_keys.expire(TENANT, "k1", 50),
            uow.api_keys.expire(TENANT, "k1", 60),
            uow.api_keys.revoke(TENANT, "k2", 70),
            uow.api_keys.revoke(TENANT, "k2", 80),
            uow.api_keys.expire(TENANT, "k2", 90),
            uow.api_keys.revoke(TENANT, "nope", 90),
        )
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        uow.rate_limits.configure(5.0, 10.0)
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        after = uow.api_keys.stamp(TENANT)
        k1, k2 = (uow.api_keys.by_hash(f"hash-acme-k{n}") for n in (1, 2))
    assert moves == (True, False, True, False, False, False)
    assert (before, after) == (KeyStamp(0, None, None), KeyStamp(2, 5.0, 10.0))
    assert (k1 and k1.expires_us, k2 and k2.revoked_us) == (50, 70)


def test_a_bucket_is_created_full_then_stored(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.rate_limits.lock(25.0)
        uow.rate_limits.store(7.5, 1_000)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        again = uow.rate_limits.lock(25.0)
        other = uow.rate_limits.of("zeta").settings()
        uow.commit()
    assert (first.rate_per_second, first.burst, first.tokens, first.updated_us) == (
        None,
        None,
        25.0,
        0,
    )
    assert (again.tokens, again.updated_us, other) == (7.5, 1_000, (None, None))


def test_configure_sets_limits_and_keeps_the_level(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.rate_limits.configure(2.0, 4.0)
        fresh = uow.rate_limits.lock(99.0)
        uow.rate_limits.store(3.0, 500)
        uow.rate_limits.configure(None, 8.0)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        settings, bucket = uow.rate_limits.settings(), uow.rate_limits.lock(99.0)
    assert (fresh.tokens, fresh.updated_us) == (0.0, 0)  # a configured row starts empty
    assert (settings, bucket.tokens, bucket.updated_us) == ((None, 8.0), 3.0, 500)


def test_heartbeats_keep_their_start_and_the_latest_beat_per_loop(any_store: AnyStore) -> None:
    with any_store.unit_of_work() as uow:
        uow.heartbeats.beat(Heartbeat("w1", "push", "h1", 10, 100, 110))
        uow.heartbeats.beat(Heartbeat("w2", "push", "h2", 20, 200, 150))
        uow.heartbeats.beat(Heartbeat("w1", "push", "h9", 99, 999, 300))
        uow.heartbeats.beat(Heartbeat("w1", "alerts", "h1", 10, 100, 120))
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        latest, every = uow.heartbeats.latest(), list(uow.heartbeats.all())
    assert latest == {"push": 300, "alerts": 120}
    assert every == [
        Heartbeat("w1", "alerts", "h1", 10, 100, 120),
        Heartbeat("w1", "push", "h1", 10, 100, 300),
        Heartbeat("w2", "push", "h2", 20, 200, 150),
    ]


def test_open_periods_count_every_tenants_counters_still_open(any_store: AnyStore) -> None:
    for tenant, ends in ((TENANT, (100, 200, 50)), ("zeta", (300,))):
        with any_store.unit_of_work(tenant) as uow:
            locked = uow.counters.lock({("calls", f"c{e}", 0): e for e in ends}, 1)
            uow.counters.save(locked.values(), 1)
            uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        assert (uow.gauges.open_periods(99), uow.gauges.open_periods(300)) == (3, 0)
