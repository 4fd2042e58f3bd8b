"""Request and response bodies of every route, one module per feature (see ``api.wire``)."""
