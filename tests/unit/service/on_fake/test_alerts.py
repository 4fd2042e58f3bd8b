"""Alert rule use cases and evaluation on the in-memory store."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from stripemeter_server.domain.alerts import parse_new_rule, parse_rule_changes
from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.service.alerts.events import list_events
from stripemeter_server.service.alerts.rules import (
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    update_rule,
)
from tests.support.fake_store import FakeStore
from tests.unit.service.on_fake.conftest import NOW, TENANT, event, ingest

QUANTITY = {"type": "quantity", "metric": "calls", "threshold": "10"}


def rule_id(store: FakeStore, body: Mapping[str, object]) -> str:
    with store.unit_of_work(TENANT) as uow:
        view = create_rule(uow, parse_new_rule(body), NOW)
        uow.commit()
    return view.rule_id


def test_a_created_rule_is_listed(store: FakeStore) -> None:
    created = rule_id(store, QUANTITY)
    with store.unit_of_work(TENANT) as uow:
        listed = list_rules(uow)
    assert len(listed) == 1 and created.startswith("alr_")


def test_a_rule_without_a_threshold_is_refused(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow, pytest.raises(ValidationError) as refused:
        create_rule(uow, parse_new_rule({"type": "quantity", "metric": "calls"}), NOW)
    assert refused.value.field == "threshold"


def test_a_deleted_rule_is_not_found(store: FakeStore) -> None:
    created = rule_id(store, QUANTITY)
    with store.unit_of_work(TENANT) as uow:
        delete_rule(uow, created)
        with pytest.raises(NotFoundError):
            get_rule(uow, created)


def test_crossing_the_threshold_fires_once_per_period(store: FakeStore) -> None:
    rule_id(store, QUANTITY)
    ingest(store, event(quantity="6", idempotencyKey="a"))
    ingest(store, event(quantity="6", idempotencyKey="b"))
    ingest(store, event(quantity="6", idempotencyKey="c"))
    with store.unit_of_work(TENANT) as uow:
        fired = list_events(uow, after_seq=0, limit=10)
    assert [(e.seq, e.customer_ref) for e in fired] == [(1, "cus_a")]


def test_below_the_threshold_nothing_fires(store: FakeStore) -> None:
    rule_id(store, QUANTITY)
    ingest(store, event(quantity="9"))
    with store.unit_of_work(TENANT) as uow:
        assert list_events(uow, after_seq=0, limit=10) == []


def test_an_update_keeps_the_rule_id_and_changes_the_threshold(store: FakeStore) -> None:
    created = rule_id(store, QUANTITY)
    with store.unit_of_work(TENANT) as uow:
        update_rule(uow, created, parse_rule_changes({"threshold": "3"}), NOW)
        uow.commit()
    ingest(store, event(quantity="4"))
    with store.unit_of_work(TENANT) as uow:
        assert [e.rule_id for e in list_events(uow, after_seq=0, limit=10)] == [created]


def test_a_blocked_webhook_is_refused_before_a_bad_secret(store: FakeStore) -> None:
    command = parse_new_rule(
        {**QUANTITY, "webhookUrl": "http://127.0.0.1/hook", "secret": "s" * 300}
    )
    with store.unit_of_work(TENANT) as uow, pytest.raises(ValidationError) as refused:
        create_rule(uow, command, NOW)
    assert refused.value.code == "webhook_destination_blocked"


def test_a_secret_too_long_is_refused_by_name(store: FakeStore) -> None:
    command = parse_new_rule({**QUANTITY, "secret": "s" * 300})
    with store.unit_of_work(TENANT) as uow, pytest.raises(ValidationError) as refused:
        create_rule(uow, command, NOW)
    assert (refused.value.field, refused.value.code) == ("secret", "field_too_long")


def test_a_change_keeps_the_secret_unless_one_is_given(store: FakeStore) -> None:
    created = rule_id(store, {**QUANTITY, "secret": "first"})
    with store.unit_of_work(TENANT) as uow:
        update_rule(uow, created, parse_rule_changes({"name": "n"}), NOW)
        kept = uow.alerts.get_rule(created)
        update_rule(uow, created, parse_rule_changes({"secret": "second"}), NOW)
        replaced = uow.alerts.get_rule(created)
    assert kept is not None and replaced is not None
    assert (kept.secret, replaced.secret) == ("first", "second")
