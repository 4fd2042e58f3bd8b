"""A v2 stream request's body is the JSON the library would send for a plain list, and the
library's form encoding of it (built for a debug log line only) stays one field (ADR 0952)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from stripe._encode import _api_encode

from stripemeter_server.service.ports.stripe import MeterEventOut, StripeCredentials
from stripemeter_server.stripe import gateway as gateway_module
from stripemeter_server.stripe.gateway import StripeGateway
from stripemeter_server.stripe.streams import JsonOnlyList


class RecordingClient(stripe.HTTPClient):
    """Answers every request with an empty JSON object and keeps what was sent."""

    name = "recording"

    def __init__(self, *_: Any, **__: Any) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict[str, str], Any]] = []

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None
    ) -> tuple[bytes, int, dict[str, str]]:
        self.sent.append((method, url, dict(headers), post_data))
        return b"{}", 200, {}

    def close(self) -> None:
        pass


def _events(count: int) -> list[MeterEventOut]:
    return [
        MeterEventOut("tokens", f"cus_{i}", 1 + i % 7, f"push-{i}", 1_760_000_000 + i, None)
        for i in range(count)
    ]


def test_the_stream_body_is_the_plain_list_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_module, "PinnedStripeHTTPClient", RecordingClient)
    gateway = StripeGateway(StripeCredentials("sk_test_x", api_base="http://127.0.0.1:9"))
    gateway.stream_meter_events("session-token", _events(100))
    http: Any = gateway._http
    ((method, url, headers, body),) = http.sent
    assert (method, url) == ("post", "http://127.0.0.1:9/v2/billing/meter_event_stream")
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer session-token"
    sent = json.loads(body)
    assert list(sent) == ["events"] and len(sent["events"]) == 100
    assert sent["events"][3] == {
        "event_name": "tokens",
        "payload": {"stripe_customer_id": "cus_3", "value": "4"},
        "identifier": "push-3",
        "timestamp": "2025-10-09T08:53:23Z",
    }


def test_the_library_form_encodes_the_list_as_one_field() -> None:
    events = JsonOnlyList({"identifier": f"e{i}", "payload": {"value": "1"}} for i in range(100))
    assert list(_api_encode({"events": events})) == [("events", "")]
    assert json.dumps({"events": events}) == json.dumps({"events": list(events)})
