"""Percent-escapes that are not UTF-8 (issue 18, finding 8): refused with a 4xx naming the
parameter, never decoded lossily into U+FFFD and stored."""

from __future__ import annotations

import pytest
from httpx2 import Response

from tests.integration.api.conftest import Api


def _field(response: Response) -> tuple[int, str, str]:
    body = response.json()
    return (
        response.status_code,
        body["code"],
        body["errors"][0]["field"],
    )


def test_a_path_parameter_with_invalid_utf8_is_refused_naming_it(api: Api) -> None:
    response = api.client.put("/v1/customers/%FF%FE", json={}, headers=api.headers())
    assert _field(response) == (422, "invalid_encoding", "customer_ref")


def test_nothing_is_created_by_the_refused_request(api: Api) -> None:
    api.client.put("/v1/customers/%FF%FE", json={}, headers=api.headers())
    lossy = "%EF%BF%BD%EF%BF%BD"  # what a lossy decoding would have stored: "\ufffd\ufffd"
    assert api.client.get(f"/v1/customers/{lossy}", headers=api.headers()).status_code == 404


@pytest.mark.parametrize("query", ["customerRef=%C3%28", "customerRef=%80&metric=calls"])
def test_a_query_value_with_invalid_utf8_is_refused_naming_it(api: Api, query: str) -> None:
    response = api.client.get(f"/v1/usage/current?{query}", headers=api.headers())
    assert _field(response) == (422, "invalid_encoding", "customerRef")


def test_valid_utf8_escapes_still_work(api: Api) -> None:
    response = api.client.put("/v1/customers/caf%C3%A9", json={}, headers=api.headers())
    assert response.status_code in (200, 201), response.text
