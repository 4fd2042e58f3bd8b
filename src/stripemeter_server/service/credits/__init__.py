"""credits (see README.md in this folder)."""
