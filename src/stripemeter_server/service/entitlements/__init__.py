"""entitlements (see README.md in this folder)."""
