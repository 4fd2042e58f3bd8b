"""Each store's dialect object implements the ``SqlDialect`` port, and says what it should."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import Select, column, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from stripemeter_server.storage.adapters import adapter_for
from stripemeter_server.storage.postgres import PostgresDialect
from stripemeter_server.storage.sql_dialect import SqlDialect
from stripemeter_server.storage.sqlite import SqliteDialect

DIALECTS = [PostgresDialect, SqliteDialect]
PORT_MEMBERS = sorted(
    name for name in vars(SqlDialect) if not name.startswith("_") and name not in {"__init__"}
)
PROPERTIES = {"chains_writes", "name"}  # values, not methods: each dialect's own test below
jobs = table("jobs", column("id"), column("due_us"))


def _sql(query: Select[tuple[object]], dialect: Dialect) -> str:
    return str(query.compile(dialect=dialect))


def _due() -> Select[tuple[object]]:
    return select(jobs.c.id).where(jobs.c.due_us <= 5)


def test_the_port_has_the_members_the_repositories_use() -> None:
    assert PORT_MEMBERS == [
        "chains_writes",
        "claim_due",
        "clock_us",
        "lock_keys",
        "lock_rows",
        "name",
        "relax_commit_durability",
        "share_rows",
        "upsert",
    ]


@pytest.mark.parametrize("implementation", DIALECTS)
@pytest.mark.parametrize("member", [m for m in PORT_MEMBERS if m not in PROPERTIES])
def test_each_dialect_implements_every_method_with_the_ports_signature(
    implementation: type, member: str
) -> None:
    wanted = list(inspect.signature(getattr(SqlDialect, member)).parameters)
    assert list(inspect.signature(getattr(implementation, member)).parameters) == wanted


@pytest.mark.parametrize(
    ("implementation", "name"), [(PostgresDialect, "postgresql"), (SqliteDialect, "sqlite")]
)
def test_each_dialect_is_named_as_sqlalchemy_names_its_store(
    implementation: type, name: str
) -> None:
    assert implementation().name == name


@pytest.mark.parametrize(
    ("implementation", "chains"), [(PostgresDialect, True), (SqliteDialect, False)]
)
def test_only_postgres_writes_two_tables_in_one_statement(
    implementation: type, chains: bool
) -> None:
    # PostgreSQL takes an INSERT inside WITH feeding a second INSERT; SQLite has no
    # data-modifying WITH, so its repositories send the two writes one after the other.
    assert implementation().chains_writes is chains


@pytest.mark.parametrize(
    ("name", "implementation"), [("postgresql", PostgresDialect), ("sqlite", SqliteDialect)]
)
def test_the_store_picks_the_dialect_by_the_engines_name(name: str, implementation: type) -> None:
    assert isinstance(adapter_for(name).dialect, implementation)


def test_an_unsupported_database_is_refused_when_the_store_opens() -> None:
    with pytest.raises(ValueError, match="unsupported database: mysql"):
        adapter_for("mysql")


def test_postgres_claims_skip_rows_other_workers_hold() -> None:
    sql = _sql(PostgresDialect().claim_due(_due()), postgresql.dialect())
    assert sql.endswith("FOR UPDATE SKIP LOCKED")


def test_postgres_locks_rows_for_update() -> None:
    assert _sql(PostgresDialect().lock_rows(_due()), postgresql.dialect()).endswith("FOR UPDATE")


def test_postgres_share_locks_rows_against_writers_only() -> None:
    assert _sql(PostgresDialect().share_rows(_due()), postgresql.dialect()).endswith("FOR SHARE")


@pytest.mark.parametrize("shape", ["claim_due", "lock_rows", "share_rows"])
def test_sqlite_leaves_row_locks_to_its_single_writer(shape: str) -> None:
    query = _due()
    assert getattr(SqliteDialect(), shape)(query) is query


@pytest.mark.parametrize(
    ("implementation", "insert"),
    [(PostgresDialect, postgresql.Insert), (SqliteDialect, sqlite.Insert)],
)
def test_each_dialect_upserts_with_its_own_on_conflict_insert(
    implementation: type, insert: type
) -> None:
    assert isinstance(implementation().upsert(jobs), insert)
