"""operations (see README.md in this folder)."""
