"""dashboard (see README.md in this folder)."""
