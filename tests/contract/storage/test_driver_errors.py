"""Errors of statements run on the driver's own cursor (the ingest and outbox hot paths)
mean what the same errors mean through SQLAlchemy: a deadlock or a busy file is retried, a
lost connection is a 503 — never a 500."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.engine import make_url

from stripemeter_server.domain.errors import RetryableConflict, UnavailableError
from stripemeter_server.storage.unit_of_work import Store


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (psycopg.errors.DeadlockDetected("deadlock detected"), RetryableConflict),
        (psycopg.errors.SerializationFailure("could not serialize"), RetryableConflict),
        (sqlite3.OperationalError("database is locked"), RetryableConflict),
        (psycopg.OperationalError("server closed the connection"), UnavailableError),
    ],
    ids=["deadlock", "serialization", "sqlite-busy", "connection-lost"],
)
def test_a_driver_error_in_a_unit_of_work_is_translated(
    store: Store, raised: Exception, expected: type[Exception]
) -> None:
    with pytest.raises(expected) as caught, store.unit_of_work("t"):
        raise raised
    assert caught.value.__cause__ is raised


def test_a_driver_error_that_means_a_bug_stays_itself(store: Store) -> None:
    bug = psycopg.errors.SyntaxError("syntax error at or near")
    with pytest.raises(psycopg.errors.SyntaxError), store.unit_of_work("t"):
        raise bug


def test_a_real_driver_cursor_error_is_translated(store: Store) -> None:
    """A statement on the driver's own cursor that the database refuses: a deadlock on
    PostgreSQL, a file another connection holds the write lock of on SQLite."""
    if store.dialect == "postgresql":
        with pytest.raises(RetryableConflict), store.unit_of_work("t") as uow:
            driver = uow.connection.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            with driver.cursor() as cursor:
                cursor.execute("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END $$")
        return
    blocker = sqlite3.connect(str(make_url(store.url).database))
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        with pytest.raises(RetryableConflict), store.unit_of_work("t", read_only=True) as uow:
            driver = uow.connection.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            driver.execute("PRAGMA busy_timeout=0")
            try:
                driver.execute("UPDATE tenants SET name = name")
            finally:
                driver.execute("PRAGMA busy_timeout=30000")
    finally:
        blocker.rollback()
        blocker.close()
