"""The PostgreSQL adapter (see README.md)."""

from stripemeter_server.storage.postgres.dialect import PostgresDialect

__all__ = ["PostgresDialect"]
