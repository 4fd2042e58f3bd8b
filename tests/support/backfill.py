"""Shorthands for backfill and four-eyes tests: sessions and decisions in one transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from stripemeter_server.service.corrections import backfills
from stripemeter_server.service.corrections.approvals import decide_backfill, set_four_eyes
from stripemeter_server.service.corrections.backfills import BackfillView
from stripemeter_server.service.corrections.commands import open_backfill_command
from stripemeter_server.service.usage.reads import current_usage
from stripemeter_server.storage.unit_of_work import Store


def open_session(store: Store, tenant: str, now: datetime, **body: Any) -> str:
    """Open a session from the keys a ``POST /v1/backfills`` body would carry."""
    command = open_backfill_command(
        body.get("metric"),
        customers=body.get("customers"),
        ts_from=body.get("from"),
        ts_to=body.get("to"),
        note=body.get("note"),
    )
    with store.unit_of_work(tenant) as uow:
        record = backfills.open_backfill(uow, command, "key_a", now)
        uow.commit()
    return record.backfill_id


def close(
    store: Store, tenant: str, backfill_id: str, now: datetime, actor: str = "key_a"
) -> BackfillView:
    with store.unit_of_work(tenant) as uow:
        view = backfills.close_backfill(uow, backfill_id, actor, now)
        uow.commit()
    return view


def revert(store: Store, tenant: str, backfill_id: str, now: datetime) -> BackfillView:
    with store.unit_of_work(tenant) as uow:
        view = backfills.revert_backfill(uow, backfill_id, "key_a", now)
        uow.commit()
    return view


def decide(
    store: Store, tenant: str, backfill_id: str, decision: str, actor: str, now: datetime
) -> BackfillView:
    with store.unit_of_work(tenant) as uow:
        view = decide_backfill(uow, backfill_id, decision, actor, now)
        uow.commit()
    return view


def four_eyes(store: Store, tenant: str, now: datetime) -> None:
    with store.unit_of_work(tenant) as uow:
        set_four_eyes(uow, True, "key_admin", now)
        uow.commit()


def current(store: Store, tenant: str, customer: str, metric: str, now: datetime) -> Decimal | None:
    with store.unit_of_work(tenant, read_only=True) as uow:
        return current_usage(uow, customer, now, metric)[0].value
