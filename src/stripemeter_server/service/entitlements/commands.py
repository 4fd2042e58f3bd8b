"""What the entitlement use cases are asked to do, parsed at the edge (ADR 0030).

A route (or any other caller) builds these with ``api/schemas/entitlement_commands.py``;
the use cases never see a request body. Where a refusal must keep coming after a check
only the store can make (an unknown reservation is a 404 before a bad quantity is a 422),
the command carries it as a ``Parsed`` value and the use case raises it at that point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from stripemeter_server.domain.entitlements import FeatureKind, Grant
from stripemeter_server.domain.parsed import Parsed


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """May ``quantity`` more of ``feature`` be used by ``customer_ref`` now?"""

    customer_ref: str
    feature: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class ReserveRequest:
    """Hold ``quantity`` for ``ttl_seconds``; the key makes a retry answer the first hold."""

    customer_ref: str
    feature: str
    quantity: Decimal
    ttl_seconds: int
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class CommitRequest:
    """Commit a reservation: ``quantity`` is ``None`` for "all of it"; a malformed one is
    refused only once the reservation is known to exist."""

    quantity: Parsed[Decimal] | None = None


@dataclass(frozen=True, slots=True)
class ExtraGrantRequest:
    """Add ``amount`` to a grant's limit for the current usage window; the key (if any)
    makes a retry answer the first extra grant."""

    amount: Decimal
    idempotency_key: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class NewGrant:
    """A customer's grant of a feature. Which fields a grant may have depends on the
    stored feature's kind, and an unknown feature is a 404 before any refusal of the body,
    so the body is parsed once for each kind and the use case takes the stored kind's."""

    by_kind: Mapping[FeatureKind, Parsed[Grant]]

    def for_kind(self, kind: FeatureKind) -> Grant:
        return self.by_kind[kind].get()
