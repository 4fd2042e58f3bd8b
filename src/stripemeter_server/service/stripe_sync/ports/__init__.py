"""ports (see README.md in this folder)."""
