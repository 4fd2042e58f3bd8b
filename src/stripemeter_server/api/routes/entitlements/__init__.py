"""Routes of the entitlements feature: features, grants, checks and reservations."""
