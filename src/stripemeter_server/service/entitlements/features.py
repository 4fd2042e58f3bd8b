"""Features: the capabilities a tenant sells (boolean, static with a config, metered)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.entitlement_parsing import feature_from_dict, feature_to_dict
from stripemeter_server.domain.entitlements import Feature
from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.entitlements.ports import EntitlementsUnitOfWork as UnitOfWork
from stripemeter_server.service.entitlements.ports import StoredFeature
from stripemeter_server.service.operations import audit


@dataclass(frozen=True, slots=True)
class SavedFeature:
    feature: Feature
    created: bool


def encode_feature(feature: Feature) -> str:
    return json.dumps(feature_to_dict(feature), sort_keys=True, separators=(",", ":"))


def decode_feature(key: str, text: str) -> Feature:
    return feature_from_dict(key, json.loads(text))


def put_feature(uow: UnitOfWork, feature: Feature, now: datetime) -> SavedFeature:
    """Create or replace a feature (parsed at the edge); a metered one must name a metric
    that exists."""
    if feature.metric is not None and uow.metrics.get(feature.metric) is None:
        raise ValidationError(
            f"metric {feature.metric!r} does not exist", code="metric_not_found", field="metric"
        )
    before = uow.features.get(feature.key)
    created = uow.features.put(
        feature.key, feature.kind.value, encode_feature(feature), to_micros(now)
    )
    audit.record(
        uow,
        now,
        "feature.put",
        "feature",
        feature.key,
        before=json.loads(before.definition) if before else None,
        after=feature_to_dict(feature),
    )
    return SavedFeature(feature, created)


def get_feature(uow: UnitOfWork, key: str) -> Feature:
    return stored_feature(uow.features.get(key), key)


def stored_feature(stored: StoredFeature | None, key: str) -> Feature:
    """The feature read as ``stored``, or its 404."""
    if stored is None:
        raise NotFoundError(
            f"feature {key!r} does not exist", code="feature_not_found", field="feature"
        )
    return decode_feature(stored.key, stored.definition)


def list_features(uow: UnitOfWork) -> list[Feature]:
    return [decode_feature(s.key, s.definition) for s in uow.features.list()]


def delete_feature(uow: UnitOfWork, key: str, now: datetime) -> None:
    """Remove the feature; customers' grants of it stop counting (they answer 404)."""
    feature = get_feature(uow, key)
    uow.features.delete(key)
    audit.record(uow, now, "feature.delete", "feature", key, before=feature_to_dict(feature))
