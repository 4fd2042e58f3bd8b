"""The commands of the catalog's use cases, parsed from request bodies at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MetricChanges:
    """A partial change of a metric: the keys given, as the definition spells them. It is
    applied over the stored metric (``metric_from_dict(..., base=...)``), so whether it is
    valid depends on what was stored, and it is parsed only then."""

    changes: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> MetricChanges:
        return cls(tuple(body.items()))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.changes)


@dataclass(frozen=True, slots=True)
class CustomerTerms:
    """A customer record's new terms (every one optional, ``None`` when not given)."""

    customer_ref: str
    stripe_customer_id: str | None
    anchor_day: int | None
    timezone: str | None
