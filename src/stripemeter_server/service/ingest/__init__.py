"""Ingest: the pipeline that turns a batch of raw events into ledger rows and counter
updates, one transaction per group (``pipeline.py``; answers in ``outcome.py``).

The package module is deliberately empty: the ports of the unit of work import this
feature's port module, so importing the package must not pull in the use cases."""
