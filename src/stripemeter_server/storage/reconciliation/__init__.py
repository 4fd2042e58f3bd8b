"""reconciliation (see README.md in this folder)."""
