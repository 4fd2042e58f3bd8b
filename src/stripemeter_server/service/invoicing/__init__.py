"""invoicing (see README.md in this folder)."""
