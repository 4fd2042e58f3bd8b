"""The corrections page: backfill sessions with their state, four-eyes decisions on a
backfill close, and the recent rebuild jobs (started from the page, admin and CSRF only)."""

from __future__ import annotations

import re

import pytest

from stripemeter_server.service.corrections.commands import RebuildTarget
from stripemeter_server.service.corrections.rebuild_jobs import submit_rebuild
from tests.integration.ui.conftest import ADMIN_KEY, Ui, csrf_of

EVENT = {
    "metric": "api_calls",
    "customerRef": "cus_A",
    "quantity": "5",
    "ts": "2025-01-16T10:00:00Z",
    "idempotencyKey": "k-1",
}


def _pending_close(ui: Ui) -> str:
    """A backfill session with one event whose close (by the bootstrap key) awaits a second
    key, in four-eyes mode."""
    ui.ingest([EVENT])  # creates the metric (the default tenant auto-creates metrics)
    ui.api_send("PUT", "/v1/corrections/policy", {"fourEyes": True})
    session = ui.api_send("POST", "/v1/backfills", {"metric": "api_calls"})["id"]
    ui.ingest([{**EVENT, "quantity": "7", "idempotencyKey": "k-bf", "backfillId": session}])
    assert ui.api_send("POST", f"/v1/backfills/{session}/close", {})["status"] == "pending"
    return str(session)


def _status(ui: Ui, session: str) -> str:
    return str(ui.api_get(f"/v1/backfills/{session}")["status"])


def _usage(ui: Ui) -> str:
    return str(ui.api_get("/v1/usage/current", customerRef="cus_A")["metrics"][0]["value"])


@pytest.fixture
def second_admin(ui: Ui) -> str:
    return ui.new_key({"admin"})


def test_backfill_sessions_are_listed_with_their_state(ui: Ui) -> None:
    session = _pending_close(ui)
    page = ui.sign_in().get("/ui/corrections").text
    row = re.search(rf'<tr data-backfill="{session}">(.*?)</tr>', page, re.S)
    assert row is not None and '<span class="badge">pending</span>' in row.group(1)


def test_another_key_approves_a_pending_close_and_its_events_count(
    ui: Ui, second_admin: str
) -> None:
    session = _pending_close(ui)
    client = ui.sign_in(second_admin)
    token = csrf_of(client.get("/ui/corrections"))
    answer = client.post(f"/ui/corrections/backfills/{session}/approve", data={"csrf": token})
    assert answer.status_code == 303
    assert (_status(ui, session), _usage(ui)) == ("closed", "12")


def test_another_key_rejects_a_pending_close_and_its_events_never_count(
    ui: Ui, second_admin: str
) -> None:
    session = _pending_close(ui)
    client = ui.sign_in(second_admin)
    token = csrf_of(client.get("/ui/corrections"))
    client.post(f"/ui/corrections/backfills/{session}/reject", data={"csrf": token})
    assert (_status(ui, session), _usage(ui)) == ("rejected", "5")


def test_the_key_that_asked_for_the_close_sees_no_approve_button(ui: Ui) -> None:
    session = _pending_close(ui)
    page = ui.sign_in(ADMIN_KEY).get("/ui/corrections").text
    assert f"backfills/{session}/approve" not in page and "Waiting for another key" in page


def test_the_key_that_asked_for_the_close_cannot_approve_it(ui: Ui) -> None:
    session = _pending_close(ui)
    client = ui.sign_in(ADMIN_KEY)
    token = csrf_of(client.get("/ui/corrections"))
    answer = client.post(f"/ui/corrections/backfills/{session}/approve", data={"csrf": token})
    assert (answer.status_code, _status(ui, session)) == (403, "pending")


def test_a_backfill_decision_without_the_csrf_token_is_refused(ui: Ui, second_admin: str) -> None:
    session = _pending_close(ui)
    answer = ui.sign_in(second_admin).post(f"/ui/corrections/backfills/{session}/approve")
    assert (answer.status_code, _status(ui, session)) == (403, "pending")


def test_deciding_an_unknown_session_is_a_404_page(ui: Ui) -> None:
    client = ui.sign_in()
    token = csrf_of(client.get("/ui/corrections"))
    answer = client.post("/ui/corrections/backfills/bf_nope/approve", data={"csrf": token})
    assert answer.status_code == 404


def test_a_started_rebuild_is_listed_with_a_link_to_its_progress(ui: Ui) -> None:
    ui.ingest([EVENT])
    client = ui.sign_in()
    token = csrf_of(client.get("/ui/corrections"))
    answer = client.post("/ui/corrections/rebuilds", data={"csrf": token, "metric": "api_calls"})
    job = answer.headers["location"].rsplit("/", 1)[-1]
    page = client.get("/ui/corrections").text
    assert answer.status_code == 303 and f'href="/ui/corrections/rebuilds/{job}"' in page


def test_a_running_rebuilds_progress_page_refreshes_itself(ui: Ui) -> None:
    ui.ingest([EVENT])
    with ui.store.unit_of_work("default") as uow:  # a job still running (as another node's)
        job = submit_rebuild(uow, RebuildTarget("api_calls", None), "someone", ui.clock.now())
        uow.commit()
    page = ui.sign_in().get(f"/ui/corrections/rebuilds/{job.job_id}").text
    assert 'hx-trigger="every 1s"' in page and 'id="job-status">running<' in page


def test_a_read_only_key_cannot_start_a_rebuild(ui: Ui) -> None:
    ui.ingest([EVENT])
    client = ui.sign_in(ui.new_key({"read"}))
    token = csrf_of(client.get("/ui/corrections"))  # the sign-out form carries it
    answer = client.post("/ui/corrections/rebuilds", data={"csrf": token, "metric": "api_calls"})
    assert answer.status_code == 403 and "No rebuild has run." in client.get("/ui/corrections").text
