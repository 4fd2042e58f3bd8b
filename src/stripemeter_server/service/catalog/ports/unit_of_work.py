"""The catalog use cases' unit of work (ADR 0026)."""

from __future__ import annotations

from typing import Protocol

from stripemeter_server.service.corrections.ports.unit_of_work import CorrectionsUnitOfWork


class CatalogUnitOfWork(CorrectionsUnitOfWork, Protocol):
    """The corrections' repositories, no fewer: redefining how a metric counts or moving a
    customer's billing anchor rebuilds counters, and a rebuild is a correction."""
