"""corrections (see README.md in this folder)."""
