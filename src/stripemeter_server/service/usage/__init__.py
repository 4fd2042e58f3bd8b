"""usage (see README.md in this folder)."""
