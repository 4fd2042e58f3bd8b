"""``DriverStatement`` (ADR 0950) builds a statement once per dialect, for both stores'
dialects: named parameters and parameters with their own value are accepted, a parameter
rendered at execution time (SQLAlchemy's post-compile, e.g. ``aggregate_strings``'
separator) is refused when the statement is first built, never sent half-rendered."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.functions import aggregate_strings

from stripemeter_server.storage.driver_statements import DriverStatement
from stripemeter_server.storage.schema import entitlement_extras

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}
_X = entitlement_extras


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_named_and_own_valued_parameters_are_built(dialect: Dialect) -> None:
    query = select(literal(1).label("one"), _X.c.amount).where(
        _X.c.tenant_id == bindparam("tenant")
    )
    built = DriverStatement(query)._build(dialect)
    assert set(built.fixed.values()) == {1}  # the literal carries its value
    assert built.keys == ("one", "amount")
    assert (built.order is None) == (dialect.name == "postgresql")  # psycopg: by name


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_a_parameter_rendered_at_execution_time_is_refused(dialect: Dialect) -> None:
    query = select(aggregate_strings(_X.c.extra_id, ",")).where(
        _X.c.tenant_id == bindparam("tenant")
    )
    with pytest.raises(ValueError, match="execution time"):
        DriverStatement(query)._build(dialect)
