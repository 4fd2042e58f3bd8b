"""The usage use cases' ports."""

from __future__ import annotations

from typing import Protocol

from stripemeter_server.service.corrections.ports.unit_of_work import CorrectionsUnitOfWork


class UsageUnitOfWork(CorrectionsUnitOfWork, Protocol):
    """The corrections' repositories, no fewer: usage reads honour what corrections define
    (period closes, adjustments, backfill sessions held out of the counts) and read the
    catalog, whose unit of work is the corrections' one (ADR 0026)."""
