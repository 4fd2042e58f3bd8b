"""Mappings: how each metric reaches Stripe (one per metric, tenant-scoped)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache

from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.stripe_mapping import (
    StripeMapping,
    mapping_from_dict,
    mapping_to_dict,
)
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.operations import audit
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)


@lru_cache(maxsize=4096)
def decode_mapping(text: str) -> StripeMapping:
    """Parse a stored definition; memoised by its text (a pure function of an immutable value)."""
    return mapping_from_dict(json.loads(text))


def encode_mapping(mapping: StripeMapping) -> str:
    return json.dumps(mapping_to_dict(mapping), sort_keys=True, separators=(",", ":"))


def put_mapping(
    uow: UnitOfWork, mapping: StripeMapping, now: datetime
) -> tuple[StripeMapping, bool]:
    """Create or replace the metric's mapping (parsed at the edge); returns it and whether
    it was new. ``mapping_to_dict`` is the stored definition and the audit's JSON here."""
    if uow.metrics.get(mapping.metric) is None:
        raise ValidationError(
            f"metric {mapping.metric!r} does not exist", code="unknown_metric", field="metric"
        )
    previous = uow.mappings.get(mapping.metric)
    created = previous is None
    uow.mappings.put(mapping.metric, encode_mapping(mapping), to_micros(now))
    audit.record(
        uow,
        now,
        "mapping.put",
        "mapping",
        mapping.metric,
        before=None if previous is None else json.loads(previous.definition),
        after=mapping_to_dict(mapping),
    )
    # A changed mapping may be what the parked pushes were waiting for: try them again.
    uow.pushes.requeue(None, to_micros(now), metric=mapping.metric)
    return mapping, created


def get_mapping(uow: UnitOfWork, metric: str) -> StripeMapping:
    stored = uow.mappings.get(metric)
    if stored is None:
        raise NotFoundError(
            f"no mapping for metric {metric!r}", code="mapping_not_found", field="metric"
        )
    return decode_mapping(stored.definition)


def list_mappings(uow: UnitOfWork) -> list[StripeMapping]:
    return [decode_mapping(m.definition) for m in uow.mappings.all()]


def delete_mapping(uow: UnitOfWork, metric: str, now: datetime) -> None:
    previous = uow.mappings.get(metric)
    if previous is None or not uow.mappings.delete(metric):
        raise NotFoundError(
            f"no mapping for metric {metric!r}", code="mapping_not_found", field="metric"
        )
    audit.record(
        uow, now, "mapping.delete", "mapping", metric, before=json.loads(previous.definition)
    )
