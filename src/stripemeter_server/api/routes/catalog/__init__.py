"""catalog (see README.md in this folder)."""
