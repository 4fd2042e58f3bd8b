"""The migrations create exactly the tables `storage/schema.py` describes (on both stores),
so code written against the schema never meets a database that differs from it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from stripemeter_server.storage import migrate
from stripemeter_server.storage.schema import metadata
from stripemeter_server.storage.unit_of_work import Store


def _significant(diff: object) -> bool:
    # Type-affinity differences (e.g. BigInteger read back as INTEGER on SQLite) are not drift.
    return not (isinstance(diff, list) and diff and diff[0][0] == "modify_type")


def test_a_migrated_store_matches_the_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if _significant(d)] == []


def test_the_store_is_at_the_head_revision(store: Store) -> None:
    assert migrate.is_up_to_date(store.engine)
