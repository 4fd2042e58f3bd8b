from unimeter import Event

async def usage_middleware(request, client):
    """Call after each request to record one API call."""
    account_id = int(request.headers.get("X-Account-ID", "0"))
    if account_id == 0:
        return

    await client.ingest([
        Event(account_id=account_id, metric_code="api_calls", value=1),
    ])
