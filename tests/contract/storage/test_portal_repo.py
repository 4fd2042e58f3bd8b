"""The portal repository on SQLite and PostgreSQL: tokens found by id with their minting
key's state, revocation scoped to one tenant's key, settings replacing their origins, and
customers' alert rules kept per customer."""

from __future__ import annotations

from datetime import timedelta

from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.operations.tenancy import create_tenant, issue_key
from stripemeter_server.service.portal.ports import PortalSettingsRecord, PortalTokenRecord
from stripemeter_server.storage.unit_of_work import Store

HOUR_US = 3_600_000_000


def _tenant_with_key(store: Store, clock: FrozenClock, tenant: str) -> str:
    with store.unit_of_work() as uow:
        create_tenant(uow, tenant, name=None, auto_create_metrics=True, now=clock.now())
        key = issue_key(uow, tenant, frozenset({"portal"}), label=None, now=clock.now())
        uow.commit()
    return key.record.key_id


def _token(tenant: str, token_id: str, key_id: str, now_us: int) -> PortalTokenRecord:
    return PortalTokenRecord(
        tenant,
        token_id,
        "cus_1",
        ("calls",),
        frozenset({"usage:read"}),
        "0" * 64,
        key_id,
        now_us,
        now_us + HOUR_US,
        None,
    )


def _add(store: Store, record: PortalTokenRecord) -> None:
    with store.unit_of_work(record.tenant_id) as uow:
        uow.portal.add_token(record)
        uow.commit()


def test_a_token_is_found_by_id_with_its_keys_state(store: Store, clock: FrozenClock) -> None:
    key_id = _tenant_with_key(store, clock, "acme")
    record = _token("acme", "ptk_1", key_id, to_micros(clock.now()))
    _add(store, record)
    with store.unit_of_work("", read_only=True) as uow:
        found = uow.portal.token_with_key("ptk_1")
    assert found is not None
    assert (found.token, found.key_exists, found.key_revoked_us) == (record, True, None)


def test_revoking_a_keys_tokens_leaves_another_tenants_alone(
    store: Store, clock: FrozenClock
) -> None:
    now_us = to_micros(clock.now())
    key_a = _tenant_with_key(store, clock, "acme")
    key_b = _tenant_with_key(store, clock, "globex")
    _add(store, _token("acme", "ptk_a", key_a, now_us))
    _add(store, _token("globex", "ptk_b", key_b, now_us))
    with store.unit_of_work("") as uow:
        revoked = uow.portal.revoke_minted_by("acme", key_a, now_us)
        uow.commit()
    with store.unit_of_work("", read_only=True) as uow:
        other = uow.portal.token_with_key("ptk_b")
    assert revoked == ["ptk_a"] and other is not None and other.token.revoked_us is None


def test_settings_replace_the_allowed_origins(store: Store, clock: FrozenClock) -> None:
    _tenant_with_key(store, clock, "acme")
    now_us = to_micros(clock.now())
    with store.unit_of_work("acme") as uow:
        uow.portal.put_settings(PortalSettingsRecord(("https://a.example",), (), "{}", now_us))
        uow.portal.put_settings(PortalSettingsRecord(("https://b.example",), (), "{}", now_us + 1))
        uow.commit()
    with store.unit_of_work("", read_only=True) as uow:
        found = (
            uow.portal.origins_of("acme"),
            uow.portal.origin_allowed_anywhere("https://a.example"),
        )
    assert found == (("https://b.example",), False)


def test_a_customers_alert_rules_are_its_own(store: Store, clock: FrozenClock) -> None:
    _tenant_with_key(store, clock, "acme")
    now_us = to_micros(clock.now() + timedelta(seconds=1))
    with store.unit_of_work("acme") as uow:
        uow.portal.add_alert_rule("cus_1", "alr_1", now_us)
        uow.portal.add_alert_rule("cus_2", "alr_2", now_us)
        removed = uow.portal.remove_alert_rule("cus_1", "alr_2")
        uow.commit()
    with store.unit_of_work("acme", read_only=True) as uow:
        assert (removed, uow.portal.alert_rules("cus_1")) == (False, ["alr_1"])
