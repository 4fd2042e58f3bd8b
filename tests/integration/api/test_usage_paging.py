"""Long answers are paged: `/v1/usage/periods` and `/v1/usage/history` return at most
`limit` periods or time buckets and a `nextFrom` that continues exactly where they stopped."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api

DAILY = {
    "code": "daily",
    "aggregation": "sum",
    "period": {"type": "day", "timezone": "UTC"},
    "latenessWindow": "P30D",
}
RANGE = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-08T00:00:00Z"}


def _all_pages(api: Api, path: str, limit: int, **params: Any) -> tuple[list[Any], int]:
    pages, data, start = 0, [], RANGE["from"]
    while start is not None:
        body = api.get(path, limit=limit, **{**params, "from": start, "to": RANGE["to"]}).json()
        assert len({d.get("periodStart") or d["start"] for d in body["data"]}) <= limit
        data += body["data"]
        start, pages = body["nextFrom"], pages + 1
    return data, pages


def test_periods_page_through_the_whole_range(api: Api) -> None:
    api.post("/v1/metrics", DAILY)
    api.post(
        "/v1/events/ingest",
        {
            "events": [
                {
                    "metric": "daily",
                    "customerRef": "c",
                    "quantity": str(d),
                    "ts": f"2025-01-0{d}T12:00:00Z",
                }
                for d in range(1, 8)
            ]
        },
    )
    whole = api.get("/v1/usage/periods", customerRef="c", metric="daily", **RANGE).json()
    paged, pages = _all_pages(api, "/v1/usage/periods", 3, customerRef="c", metric="daily")
    assert (whole["nextFrom"], pages) == (None, 3)
    assert paged == whole["data"] and [p["value"] for p in paged] == [str(d) for d in range(1, 8)]


def test_history_pages_by_time_bucket_keeping_groups_together(api: Api) -> None:
    api.post(
        "/v1/events/ingest",
        {
            "events": [
                {
                    "metric": "calls",
                    "customerRef": "c",
                    "quantity": "1",
                    "ts": f"2025-01-0{d}T01:00:00Z",
                    "meta": {"region": region},
                }
                for d in range(1, 8)
                for region in ("eu", "us")
            ]
        },
    )
    params = {"customerRef": "c", "metric": "calls", "step": "day", "groupBy": "meta.region"}
    whole = api.get("/v1/usage/history", **params, **RANGE).json()["data"]
    paged, pages = _all_pages(api, "/v1/usage/history", 2, **params)
    assert (len(whole), pages, paged) == (14, 4, whole)


def test_a_limit_out_of_bounds_names_the_field(api: Api) -> None:
    response = api.get("/v1/usage/periods", customerRef="c", metric="calls", limit=0, **RANGE)
    assert response.status_code == 422 and "limit" in response.text
