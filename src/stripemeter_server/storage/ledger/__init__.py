"""ledger (see README.md in this folder)."""
