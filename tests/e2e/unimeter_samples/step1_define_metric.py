from unimeter import AsyncClient, MetricSchema, AggType, PeriodType

async with AsyncClient(["localhost:7001"]) as client:
    await client.metrics.create(MetricSchema(
        code="api_calls",
        agg_type=AggType.COUNT,
        period_type=PeriodType.CALENDAR,
        billing_cycle_day=1,
    ))
