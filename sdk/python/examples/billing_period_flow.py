"""Define a metric, record usage and query the current billing period, in the style of
Unimeter's async Python sample (numeric account ids, metric schemas, billing periods).

Run against a stripemeter server with STRIPEMETER_URL (comma-separated for several nodes),
STRIPEMETER_API_KEY and STRIPEMETER_TENANT set. Exits 0 and prints OK when every check holds.
"""

import asyncio
import os
import secrets
from datetime import UTC, datetime

from stripemeter import (
    AggType,
    AsyncClient,
    Event,
    MetricSchema,
    PeriodType,
    current_billing_period,
)


async def main() -> None:
    account = secrets.randbelow(10**9) + 1  # fresh per run: reruns count only their own events
    nodes = os.environ["STRIPEMETER_URL"].split(",")
    async with AsyncClient(nodes) as client:
        await client.metrics.create(
            MetricSchema(
                code="example_requests",
                agg_type=AggType.COUNT,
                period_type=PeriodType.CALENDAR,
                billing_cycle_day=1,
            )
        )

        now = datetime.now(UTC)
        events = [
            Event(
                account_id=account,
                metric_code="example_requests",
                value=1,
                timestamp=now.replace(microsecond=i),
            )
            for i in range(3)
        ]
        sent = await client.ingest(events)
        assert sent.accepted == 3, sent

        # Sending the same events again (a retry after a lost response) counts nothing new.
        resent = await client.ingest(events)
        assert (resent.accepted, resent.duplicates) == (0, 3), resent

        usage = await client.query(account, "example_requests", current_billing_period(1))
        assert usage.value.count == 3, usage


asyncio.run(main())
print("OK")
