"""The emulator's state store: JSON-shaped collections in memory, optionally snapshotted
to SQLite.

Objects are stored in their Stripe API shape; keys starting with `_` are internal and
stripped when rendered. Keeping everything JSON-shaped makes persistence a plain snapshot.
"""

from __future__ import annotations

import copy
import json
import secrets
import sqlite3
import string
import threading
from typing import Any

COLLECTIONS = (
    "customers",
    "products",
    "prices",
    "subscriptions",
    "subscription_items",
    "meters",
    "meter_events",
    "meter_event_adjustments",
    "meter_event_sessions",
    "usage_records",
    "invoices",
    "invoice_items",
    "webhook_endpoints",
    "events",
    "deliveries",
    "idempotency",
    # the billing surface beyond metering (test clocks, credits, credit notes, alerts)
    "test_clocks",
    "credit_grants",
    "credit_balance_transactions",
    "credit_notes",
    "customer_balance_transactions",
    "billing_alerts",
    "event_destinations",
    "v2_events",
)

_ALPHABET = string.ascii_letters + string.digits
# Each random byte names one character: byte % 62 (the first 8 characters come up 5 times
# in 256 rather than 4, ~5.9 bits of entropy per character: ids need to be unique, not
# secret).
_ID_TABLE = bytes(ord(_ALPHABET[b % len(_ALPHABET)]) for b in range(256))


def new_id(prefix: str, length: int = 24) -> str:
    """Stripe-looking ids (`cus_…`): random, so they never collide across resets."""
    # One random draw mapped by a table in C (a divmod per character was ~10% of the
    # emulator's own work per meter event, ADR 0966).
    return prefix + "_" + secrets.token_bytes(length).translate(_ID_TABLE).decode("ascii")


def public(obj: Any) -> Any:
    """Deep copy without internal (`_`-prefixed) keys: what the API returns."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


class StateStore:
    """Collections of objects keyed by id, in insertion order, guarded by one lock.

    The lock is re-entrant and held for a whole request, so each API call is atomic.
    """

    def __init__(self, state_file: str | None = None) -> None:
        self.lock = threading.RLock()
        self.data: dict[str, dict[str, Any]] = {name: {} for name in COLLECTIONS}
        self.extra: dict[str, Any] = {}
        self._state_file = state_file
        if state_file:
            self._load()

    def collection(self, name: str) -> dict[str, Any]:
        return self.data[name]

    def get(self, name: str, ident: str) -> Any:
        return self.data[name].get(ident)

    def find(self, name: str, ident: str) -> dict[str, Any] | None:
        """`get`, typed: every stored object is a JSON object."""
        found: dict[str, Any] | None = self.data[name].get(ident)
        return found

    def put(self, name: str, ident: object, obj: Any) -> Any:
        self.data[name][str(ident)] = obj
        return obj

    def reset(self) -> None:
        with self.lock:
            for name in COLLECTIONS:
                self.data[name] = {}
            self.extra = {}
            self.persist()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy({"data": self.data, "extra": self.extra})

    def restore(self, snap: dict[str, Any]) -> None:
        with self.lock:
            loaded = snap.get("data", {})
            self.data = {name: dict(loaded.get(name, {})) for name in COLLECTIONS}
            self.extra = dict(snap.get("extra", {}))

    # -- SQLite persistence: one row holding the whole state as JSON -----------------
    def _connect(self) -> sqlite3.Connection:
        assert self._state_file is not None
        conn = sqlite3.connect(self._state_file)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS emulator_state (id INTEGER PRIMARY KEY, body TEXT)"
        )
        return conn

    def _load(self) -> None:
        conn = self._connect()
        try:
            row = conn.execute("SELECT body FROM emulator_state WHERE id = 1").fetchone()
        finally:
            conn.close()
        if row:
            self.restore(json.loads(row[0]))

    def persist(self) -> None:
        """Snapshot the state to the SQLite file, if one is configured."""
        if not self._state_file:
            return
        with self.lock:
            body = json.dumps({"data": self.data, "extra": self.extra})
        conn = self._connect()
        try:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO emulator_state (id, body) VALUES (1, ?)", (body,)
                )
        finally:
            conn.close()
