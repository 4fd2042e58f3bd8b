"""Track usage and read it back, as in StripeMeter's Python SDK sample.

Run against a stripemeter server with STRIPEMETER_URL, STRIPEMETER_API_KEY (scopes ingest,
read, admin) and STRIPEMETER_TENANT set. Exits 0 and prints OK when every check holds.
"""

import os
import secrets
from datetime import UTC, datetime
from decimal import Decimal

from stripemeter import AggType, MetricSchema, StripeMeterClient

customer = f"cus_example_{secrets.token_hex(4)}"  # fresh per run: reruns see their own usage

with StripeMeterClient(
    api_url=os.environ["STRIPEMETER_URL"],
    tenant_id=os.environ["STRIPEMETER_TENANT"],
    customer_id=customer,
) as client:
    client.metrics.create(MetricSchema(code="example_api_calls", agg_type=AggType.SUM, unit="call"))

    # A fixed timestamp makes the event's idempotency key stable, so a retry is a duplicate.
    ts = datetime.now(UTC).replace(microsecond=0)
    first = client.track(
        metric="example_api_calls",
        customer_ref=customer,
        quantity=100,
        ts=ts,
        meta={"endpoint": "/v1/search"},
    )
    retry = client.track(
        metric="example_api_calls",
        customer_ref=customer,
        quantity=100,
        ts=ts,
        meta={"endpoint": "/v1/search"},
    )
    assert (first.status, retry.status) == ("accepted", "duplicate"), (first, retry)
    assert first.idempotency_key == retry.idempotency_key

    usage = client.get_usage(customer)
    assert usage["example_api_calls"].value == Decimal(100), usage

    # Without prices the projection has quantities but no costs.
    projection = client.get_projection(customer)
    line = next(m for m in projection.metrics if m["metric"] == "example_api_calls")
    assert Decimal(line["currentQuantity"]) == 100, projection
    assert Decimal(line["projectedQuantity"]) >= 100, projection

print("OK")
