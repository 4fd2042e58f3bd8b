"""The SQLite adapter: what differs on the embedded store (see README.md)."""
