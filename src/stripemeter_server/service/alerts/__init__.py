"""alerts (see README.md in this folder)."""
