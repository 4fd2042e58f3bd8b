"""Ingest: the pipeline that turns a batch of raw events into ledger rows and counter
updates, one transaction per group (see ``pipeline.py``)."""

from stripemeter_server.service.ingest.outcome import (
    ACCEPTED,
    CONFLICT,
    DUPLICATE,
    REJECTED,
    BatchRequest,
    EventResult,
    IngestOutcome,
)
from stripemeter_server.service.ingest.pipeline import ingest_batch, ingest_group

__all__ = [
    "ACCEPTED", "CONFLICT", "DUPLICATE", "REJECTED", "BatchRequest", "EventResult",
    "IngestOutcome", "ingest_batch", "ingest_group",
]
