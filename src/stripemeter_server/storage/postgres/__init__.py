"""The PostgreSQL adapter: what differs on the production store (see README.md)."""
