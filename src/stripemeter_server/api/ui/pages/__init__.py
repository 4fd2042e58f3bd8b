"""One small module per dashboard page; each calls the service layer only."""
