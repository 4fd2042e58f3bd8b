"""The portal's credit and upcoming-invoice reads send the statements ADR 0948 counts: the
token re-check, the one billing read, and (credit only) the ledger reads of the periods
open a day or a week ago. Both stores (SQLite's ``BEGIN`` aside)."""

from __future__ import annotations

from sqlalchemy import event

from stripemeter_server.storage.unit_of_work import Store
from tests.integration.api.conftest import Api
from tests.integration.api.portal_support import as_token, mint, seed_billing


def _sent(api: Api, store: Store, token: str, path: str) -> list[str]:
    assert as_token(api, token, "GET", path).status_code == 200  # the token is cached
    sent: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_: object) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        assert as_token(api, token, "GET", path).status_code == 200
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return [s for s in sent if s.upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]


def test_the_upcoming_invoice_is_the_token_recheck_and_one_read(api: Api, store: Store) -> None:
    seed_billing(api)
    token = mint(api, "cus_a")["token"]
    sent = _sent(api, store, token, "/portal/v1/upcoming-invoice")
    assert len(sent) == 2, sent  # every line's counter is among those containing ``at``
    assert "FROM portal_tokens" in sent[0]
    assert "credit_grants" in sent[1] and "stripe_mappings" in sent[1]


def test_the_credit_is_the_token_recheck_one_read_and_the_ledger(api: Api, store: Store) -> None:
    seed_billing(api)
    token = mint(api, "cus_a")["token"]
    sent = _sent(api, store, token, "/portal/v1/credits")
    assert "FROM portal_tokens" in sent[0]
    assert "credit_grants" in sent[1] and "counters" in sent[1]
    assert all(s.startswith("SELECT events.") for s in sent[2:]), sent[2:]
