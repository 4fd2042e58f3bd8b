"""The migrations create exactly the tables `storage/schema.py` describes (on both stores),
so code written against the schema never meets a database that differs from it."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from stripemeter_server.storage import migrate
from stripemeter_server.storage.schema import metadata
from stripemeter_server.storage.schema.event_keys import POSTGRESQL_ONLY
from stripemeter_server.storage.unit_of_work import Store

# PostgreSQL's ``events`` is partitioned by month of ``received_us`` (ADR 0810): its key takes
# the partition column, and its keys are unique in ``event_keys`` instead, whose rows name
# their events (ADR 0981: no index of the keys on the ledger). Exactly this difference from
# the shared description is expected there, and no other.
POSTGRES_EVENTS = [
    ("add_constraint", "uq_events_tenant_key"),  # described for SQLite, absent here
]


def _significant(diff: object) -> bool:
    # Type-affinity differences (e.g. BigInteger read back as INTEGER on SQLite) are not drift.
    return not (isinstance(diff, list) and diff and diff[0][0] == "modify_type")


def _included(store: Store) -> Any:
    def include(
        obj: object, name: str | None, kind: str, reflected: bool, _compare_to: object
    ) -> bool:
        if kind != "table":
            return True
        if store.dialect == "sqlite":
            return not getattr(obj, "info", {}).get(POSTGRESQL_ONLY, False)
        # the partitions of ``events`` (each a table to the inspector) are not the schema's
        return not (reflected and name is not None and name.startswith("events_"))

    return include


def _named(diff: Any) -> tuple[str, str | None]:
    return (diff[0], getattr(diff[1], "name", None)) if isinstance(diff, tuple) else ("", None)


def test_a_migrated_store_matches_the_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _included(store)})
        diffs = [d for d in compare_metadata(context, metadata) if _significant(d)]
    expected = POSTGRES_EVENTS if store.dialect == "postgresql" else []
    assert sorted(_named(d) for d in diffs) == sorted(expected)


def test_the_store_is_at_the_head_revision(store: Store) -> None:
    assert migrate.is_up_to_date(store.engine)
