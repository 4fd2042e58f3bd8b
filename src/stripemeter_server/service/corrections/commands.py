"""The commands of the corrections use cases, parsed at the edge from bodies and forms.

Values are checked by the parsers that always checked them, in the same order. A check that
must come after one only the store can make (an unknown metric is a 404 before a malformed
``from`` is a 422) is carried as a ``Parsed`` refusal and raised by the use case there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.bounded import check_identifier, check_text
from stripemeter_server.domain.decimals import check_precision, parse_decimal
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.timestamps import parse_timestamp, to_micros

MAX_SESSION_CUSTOMERS = 1000
MAX_NOTE_LENGTH = 1000  # a session's note
MAX_REASON_LENGTH = 64
MAX_ADJUSTMENT_NOTE_LENGTH = 4096  # characters; a note is an audit remark, not a document


@dataclass(frozen=True, slots=True)
class NewAdjustment:
    """A signed delta for the period containing ``at`` (``None``: the current one)."""

    metric: str
    customer_ref: str
    delta: Decimal
    reason: str
    note: str | None
    at: datetime | None


@dataclass(frozen=True, slots=True)
class BackfillTerms:
    """What a session holds: its customers (``None``: any), time range and note."""

    customers: tuple[str, ...] | None
    ts_from_us: int | None
    ts_to_us: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class OpenBackfill:
    """Open a session for ``metric``; its terms are checked once the metric is known."""

    metric: str
    terms: Parsed[BackfillTerms]


@dataclass(frozen=True, slots=True)
class RebuildTarget:
    """Rebuild one metric's counters, or only one customer's."""

    metric: str
    customer_ref: str | None


def adjustment_command(
    *,
    metric: str,
    customer_ref: str,
    delta_raw: object,
    reason: str,
    note: object,
    at: datetime | None,
) -> NewAdjustment:
    """Every check an adjustment's values get, in the order they always had (none needs
    the store: the period's being open is checked by the use case)."""
    try:
        delta = parse_decimal(delta_raw)
        check_precision(delta)
    except ValueError as exc:
        raise ValidationError(f"delta {exc}", code="invalid_delta", field="delta") from None
    check_identifier(metric, "metric", code="missing_field")
    check_identifier(customer_ref, "customerRef", code="missing_field")
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(
            "reason is required (at most 64 characters)", code="invalid_reason", field="reason"
        )
    checked = check_text(note, "note", max_length=MAX_ADJUSTMENT_NOTE_LENGTH, code="invalid_note")
    return NewAdjustment(metric, customer_ref, delta, reason, checked, at)


def open_backfill_command(
    metric: object,
    *,
    customers: object = None,
    ts_from: object = None,
    ts_to: object = None,
    note: object = None,
) -> OpenBackfill:
    if not isinstance(metric, str) or not metric:
        raise ValidationError("metric is required", code="missing_field", field="metric")
    return OpenBackfill(metric, Parsed.of(lambda: _terms(customers, ts_from, ts_to, note)))


def rebuild_target(metric: object, customer_ref: object) -> RebuildTarget:
    if not isinstance(metric, str) or not metric:
        raise ValidationError("metric is required", code="missing_field", field="metric")
    if customer_ref is not None and (not isinstance(customer_ref, str) or not customer_ref):
        raise ValidationError(
            "customerRef must be a non-empty string", code="invalid_field", field="customerRef"
        )
    return RebuildTarget(metric, customer_ref)


def _terms(customers: object, ts_from: object, ts_to: object, note: object) -> BackfillTerms:
    start, end = _instant(ts_from, "from"), _instant(ts_to, "to")
    if start is not None and end is not None and end <= start:
        raise ValidationError("to must be after from", code="invalid_range", field="to")
    return BackfillTerms(_customers(customers), start, end, _note(note))


def _instant(raw: object, name: str) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValidationError(
            f"{name} must be an RFC 3339 string", code="invalid_timestamp", field=name
        )
    try:
        return to_micros(parse_timestamp(raw))
    except ValidationError as exc:
        raise ValidationError(
            f"{name}: {exc.message}", code="invalid_timestamp", field=name
        ) from None


def _customers(raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or len(raw) > MAX_SESSION_CUSTOMERS:
        raise ValidationError(
            f"customers must be a list of 1..{MAX_SESSION_CUSTOMERS} customerRefs (or absent "
            "for any customer)",
            code="invalid_customers",
            field="customers",
        )
    if not all(isinstance(c, str) and 0 < len(c) <= 255 for c in raw):
        raise ValidationError(
            "each customerRef must be a string of 1..255 characters",
            code="invalid_customers",
            field="customers",
        )
    return tuple(dict.fromkeys(raw))


def _note(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > MAX_NOTE_LENGTH:
        raise ValidationError(
            f"note must be a string of at most {MAX_NOTE_LENGTH} characters",
            code="invalid_note",
            field="note",
        )
    return raw
