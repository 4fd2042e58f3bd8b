"""ingest (see README.md in this folder)."""
