"""Unimeter's binary wire protocol, served over our use cases (docs/unimeter.md)."""
