"""Stored prices, one definition per (metric, customer); ``''`` is the default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

DEFAULT_CUSTOMER = ""


@dataclass(frozen=True, slots=True)
class StoredPrice:
    metric: str
    customer_ref: str
    definition: str
    created_us: int
    updated_us: int

    @property
    def is_default(self) -> bool:
        return self.customer_ref == DEFAULT_CUSTOMER


class PricesRepository(Protocol):
    def put(self, metric: str, customer_ref: str, definition: str, now_us: int) -> bool: ...

    def get(self, metric: str, customer_ref: str) -> StoredPrice | None: ...

    def for_customer(self, customer_ref: str) -> list[StoredPrice]: ...

    def list(
        self, *, metric: str | None = None, customer_ref: str | None = None
    ) -> list[StoredPrice]: ...

    def delete(self, metric: str, customer_ref: str) -> bool: ...
