"""service layer (see README.md in this folder)."""
