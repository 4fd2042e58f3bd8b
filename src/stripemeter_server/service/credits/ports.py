"""Prepaid credit grants: the repository port (records are the domain's ``CreditGrant``)."""

from __future__ import annotations

from typing import Protocol

from stripemeter_server.domain.credits import CreditGrant


class CreditGrantsRepository(Protocol):
    def add(self, grant: CreditGrant) -> bool:
        """Store the grant; False when its idempotency key is taken already."""
        ...

    def get(self, grant_id: str) -> CreditGrant | None: ...

    def by_idempotency_key(self, idempotency_key: str) -> CreditGrant | None: ...

    def for_customer(self, customer_ref: str) -> list[CreditGrant]:
        """Every grant of the customer, voided ones included, oldest first."""
        ...

    def void(self, grant_id: str, now_us: int) -> None: ...
