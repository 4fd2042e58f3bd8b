"""The PostgreSQL engine: psycopg 3 and a pool shared by every request of the process."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url


def postgres_engine(url: str, pool_size: int, execution_options: dict[str, Any]) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # a plain URL means this project's driver
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        execution_options=execution_options,
    )
