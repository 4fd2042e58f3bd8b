"""Prices: storing them, and resolving the one that applies to a customer.

Resolution is "the customer's override, else the metric's default, else none". Everything
here is a thin layer over the pure ``domain.pricing``: the arithmetic lives there so the
Stripe invoice flow can price invoice items with exactly the same code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.parsed import Parsed
from stripemeter_server.domain.pricing import Price, Quote, price_from_dict, price_to_dict, quote
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.metrics import get_metric
from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER, StoredPrice
from stripemeter_server.service.catalog.ports.unit_of_work import CatalogUnitOfWork as UnitOfWork
from stripemeter_server.service.ingest.ports import IngestUnitOfWork
from stripemeter_server.service.operations import audit


@dataclass(frozen=True, slots=True)
class PriceView:
    metric: str
    customer_ref: str | None
    price: Price
    created_us: int
    updated_us: int


def encode_price(price: Price) -> str:
    return json.dumps(price_to_dict(price), sort_keys=True, separators=(",", ":"))


def decode_price(text: str) -> Price:
    return price_from_dict(json.loads(text))


def _view(stored: StoredPrice) -> PriceView:
    return PriceView(
        stored.metric,
        None if stored.is_default else stored.customer_ref,
        decode_price(stored.definition),
        stored.created_us,
        stored.updated_us,
    )


def _customer_key(customer_ref: str | None) -> str:
    if customer_ref is None:
        return DEFAULT_CUSTOMER
    if not customer_ref:
        raise ValidationError(
            "customerRef must not be empty", code="invalid_customer", field="customerRef"
        )
    return customer_ref


def put_price(
    uow: UnitOfWork,
    metric_code: str,
    customer_ref: str | None,
    parsed: Parsed[Price],
    now: datetime,
) -> tuple[PriceView, bool]:
    """Store (replace) a price; returns it and whether it was new. The price was parsed at
    the edge; its refusal comes after the metric's, as it always has."""
    get_metric(uow, metric_code)  # a price for an unknown metric is a typo, not a wish
    price = parsed.get()
    previous = uow.prices.get(metric_code, _customer_key(customer_ref))
    created = uow.prices.put(
        metric_code, _customer_key(customer_ref), encode_price(price), to_micros(now)
    )
    stored = uow.prices.get(metric_code, _customer_key(customer_ref))
    assert stored is not None
    audit.record(
        uow,
        now,
        "price.put",
        "price",
        _target(metric_code, customer_ref),
        before=None if previous is None else json.loads(previous.definition),
        after=json.loads(stored.definition),
    )
    return _view(stored), created


def _target(metric_code: str, customer_ref: str | None) -> str:
    """``metric`` for a default price, ``metric/customer`` for a customer's override."""
    return metric_code if customer_ref is None else f"{metric_code}/{customer_ref}"


def get_price(uow: UnitOfWork, metric_code: str, customer_ref: str | None) -> PriceView:
    stored = uow.prices.get(metric_code, _customer_key(customer_ref))
    if stored is None:
        whose = "default" if customer_ref is None else f"customer {customer_ref!r}"
        raise NotFoundError(
            f"no {whose} price for metric {metric_code!r}", code="price_not_found", field="metric"
        )
    return _view(stored)


def delete_price(
    uow: UnitOfWork, metric_code: str, customer_ref: str | None, now: datetime
) -> None:
    previous = uow.prices.get(metric_code, _customer_key(customer_ref))
    if previous is None or not uow.prices.delete(metric_code, _customer_key(customer_ref)):
        get_price(uow, metric_code, customer_ref)  # raises the right 404
        return
    audit.record(
        uow,
        now,
        "price.delete",
        "price",
        _target(metric_code, customer_ref),
        before=json.loads(previous.definition),
    )


def list_prices(
    uow: UnitOfWork, *, metric: str | None = None, customer_ref: str | None = None
) -> list[PriceView]:
    return [_view(s) for s in uow.prices.list(metric=metric, customer_ref=customer_ref)]


def effective_prices(uow: IngestUnitOfWork, customer_ref: str) -> dict[str, Price]:
    """The price of every priced metric for the customer (override over default)."""
    return resolve_prices(uow.prices.for_customer(customer_ref))


def resolve_prices(found: Iterable[StoredPrice]) -> dict[str, Price]:
    """``effective_prices`` from the rows ``PricesRepository.for_customer`` returns."""
    resolved: dict[str, Price] = {}
    for stored in found:  # defaults sort before overrides
        if stored.is_default and stored.metric in resolved:
            continue
        resolved[stored.metric] = decode_price(stored.definition)
    return resolved


def effective_price(uow: UnitOfWork, metric_code: str, customer_ref: str) -> Price | None:
    return effective_prices(uow, customer_ref).get(metric_code)


def cost_of(price: Price | None, quantity: Decimal | None) -> Quote | None:
    """The cost of a period's value; an empty period prices like zero usage.

    A negative value (over-credited) is priced as zero: a price never pays the customer;
    credits are money adjustments shown separately (see ADR 0201).
    """
    if price is None:
        return None
    qty = Decimal(0) if quantity is None or quantity < 0 else quantity
    return quote(price, qty)
