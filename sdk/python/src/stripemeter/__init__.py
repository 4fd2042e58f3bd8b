"""Python SDK for stripemeter."""
