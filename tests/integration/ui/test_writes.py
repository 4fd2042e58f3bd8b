"""Writes: the CSRF token is checked on every POST, read-only keys see no write control and
are refused on the server, and another tenant's ids are 404s."""

from __future__ import annotations

from tests.integration.ui.conftest import Ui, csrf_of

EVENT = {
    "metric": "api_calls",
    "customerRef": "cus_A",
    "quantity": "5",
    "ts": "2025-01-16T10:00:00Z",
    "idempotencyKey": "k-void",
}


def _voided(ui: Ui) -> bool:
    events = ui.api_get("/v1/events", customerRef="cus_A")["data"]
    return bool(events[0]["voided"])


def test_void_with_the_token_voids_and_the_total_drops(ui: Ui) -> None:
    ui.ingest([EVENT])
    client = ui.sign_in()
    token = csrf_of(client.get("/ui/events/void", params={"key": "k-void"}))
    answer = client.post("/ui/events/void", data={"key": "k-void", "confirm": "yes", "csrf": token})
    assert answer.status_code == 303 and _voided(ui)
    usage = ui.api_get("/v1/usage/current", customerRef="cus_A")["metrics"][0]["value"]
    assert usage == "0"


def test_a_write_without_the_csrf_token_is_refused(ui: Ui) -> None:
    ui.ingest([EVENT])
    answer = ui.sign_in().post("/ui/events/void", data={"key": "k-void", "confirm": "yes"})
    assert answer.status_code == 403 and not _voided(ui)


def test_a_write_with_a_wrong_csrf_token_is_refused(ui: Ui) -> None:
    ui.ingest([EVENT])
    answer = ui.sign_in().post(
        "/ui/events/void", data={"key": "k-void", "confirm": "yes", "csrf": "forged"}
    )
    assert answer.status_code == 403 and not _voided(ui)


def test_a_read_only_key_sees_no_write_control(ui: Ui) -> None:
    ui.ingest([EVENT])
    client = ui.sign_in(ui.new_key({"read"}))
    pages = [
        client.get(p).text
        for p in (
            "/ui/events/detail?key=k-void",
            "/ui/stripe",
            "/ui/corrections",
            "/ui/events/void?key=k-void",
        )
    ]
    assert all(
        'action="/ui/events/void"' not in p
        and "Void this event" not in p
        and 'action="/ui/stripe/runs"' not in p
        and 'action="/ui/corrections/adjustments"' not in p
        for p in pages
    )


def test_a_read_only_keys_write_is_refused_on_the_server(ui: Ui) -> None:
    ui.ingest([EVENT])
    client = ui.sign_in(ui.new_key({"read"}))
    token = csrf_of(client.get("/ui/overview"))
    answer = client.post("/ui/events/void", data={"key": "k-void", "confirm": "yes", "csrf": token})
    assert answer.status_code == 403 and not _voided(ui)


def test_another_tenants_event_is_a_404(ui: Ui) -> None:
    ui.ingest([EVENT])
    other = ui.sign_in(ui.new_key({"read", "ingest", "admin"}, tenant="other"))
    assert other.get("/ui/events/detail", params={"key": "k-void"}).status_code == 404


def test_another_tenants_customer_is_a_404(ui: Ui) -> None:
    ui.ingest([EVENT])
    other = ui.sign_in(ui.new_key({"admin"}, tenant="other"))
    assert other.get("/ui/customers/cus_A").status_code == 404


def test_voiding_another_tenants_event_is_a_404_and_changes_nothing(ui: Ui) -> None:
    ui.ingest([EVENT])
    other = ui.sign_in(ui.new_key({"admin"}, tenant="other"))
    token = csrf_of(other.get("/ui/overview"))
    answer = other.post("/ui/events/void", data={"key": "k-void", "confirm": "yes", "csrf": token})
    assert answer.status_code == 404 and not _voided(ui)


def test_another_tenants_run_is_a_404(ui: Ui) -> None:
    other = ui.sign_in(ui.new_key({"admin"}, tenant="other"))
    assert other.get("/ui/stripe/runs/rcn_0123456789abcdef01234567").status_code == 404


def test_retrying_an_unknown_push_is_a_404(ui: Ui) -> None:
    client = ui.sign_in()
    token = csrf_of(client.get("/ui/overview"))
    answer = client.post("/ui/stripe/pushes/smp_0123456789abcdef/retry", data={"csrf": token})
    assert answer.status_code == 404


def test_an_adjustment_is_booked_through_the_form(ui: Ui) -> None:
    ui.ingest([EVENT])
    client = ui.sign_in()
    token = csrf_of(client.get("/ui/corrections"))
    answer = client.post(
        "/ui/corrections/adjustments",
        data={
            "csrf": token,
            "metric": "api_calls",
            "customerRef": "cus_A",
            "delta": "-2",
            "reason": "credit",
        },
    )
    usage = ui.api_get("/v1/usage/current", customerRef="cus_A")["metrics"][0]["value"]
    assert answer.status_code == 303 and usage == "3"
