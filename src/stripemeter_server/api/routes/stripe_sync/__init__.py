"""stripe_sync (see README.md in this folder)."""
