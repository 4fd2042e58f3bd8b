"""Column types shared by both stores.

Decimals are ``NUMERIC`` on PostgreSQL and canonical text on SQLite: SQLite has no decimal
type and SQLAlchemy's ``Numeric`` there goes through binary floats, which would break the
"no floats on a usage path" rule.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def decimal_text(value: Decimal) -> str:
    """``format(value, "f")``, the text SQLite stores, at a third of its cost: ``str`` writes
    the same plain digits unless it chose an exponent (ADR 0968; property-tested). The
    SQLite ingest path writes one per event and up to six per counter."""
    text = str(value)
    return format(value, "f") if "E" in text else text


class ExactDecimal(TypeDecorator[Decimal]):
    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(80))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return value
        return format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)
