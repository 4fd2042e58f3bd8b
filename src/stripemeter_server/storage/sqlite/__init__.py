"""The SQLite adapter (see README.md)."""

from stripemeter_server.storage.sqlite.dialect import SqliteDialect

__all__ = ["SqliteDialect"]
