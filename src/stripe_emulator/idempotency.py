"""Idempotency keys: replay a saved response for 24 h, refuse reuse with different
parameters, and refuse concurrent use of one key — the contract exactly-once pushes
rely on."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from stripe_emulator.errors import StripeError
from stripe_emulator.store import StateStore


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    """Stable hash of what makes two requests "the same"."""
    raw = json.dumps([method, path, params], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class Saved:
    status: int
    body: Any


class IdempotencyCache:
    """Saved responses live in the state store (so they persist); in-flight keys don't."""

    def __init__(self, store: StateStore, ttl: int) -> None:
        self._store = store
        self._ttl = ttl
        self._in_flight: set[str] = set()

    @staticmethod
    def _scope(api_key: str, key: str) -> str:
        return f"{api_key}:{key}"

    def begin(self, api_key: str, key: str, fp: str, now: int, *, v2: bool) -> Saved | None:
        """Return a saved response to replay, raise on misuse, or mark the key in flight."""
        scope = self._scope(api_key, key)
        entries = self._store.collection("idempotency")
        saved = entries.get(scope)
        if saved is not None and saved["created"] + self._ttl <= now:
            del entries[scope]
            saved = None
        if saved is not None:
            if saved["fingerprint"] != fp:
                raise StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with. Try using a key other than "
                    f"'{key}' if you meant to execute a different request.",
                    type="idempotency_error",
                    headers={"Stripe-Should-Retry": "false"},
                )
            return Saved(saved["status"], saved["body"])
        if scope in self._in_flight:
            raise StripeError(
                409,
                "There is currently another in-progress request using this Stripe token "
                "(probably means you're trying to make concurrent requests with the same "
                "idempotency key). Please retry this request later.",
                code="idempotency_key_in_use",
                type="invalid_request_error",
            )
        self._in_flight.add(scope)
        return None

    def finish(self, api_key: str, key: str, fp: str, now: int, status: int, body: Any) -> None:
        """Save successful results only: Stripe saves nothing for requests that failed
        validation or conflicted, and a 5xx/429 must stay retryable with the same key."""
        scope = self._scope(api_key, key)
        self._in_flight.discard(scope)
        if status < 400:
            self._store.collection("idempotency")[scope] = {
                "fingerprint": fp,
                "status": status,
                "body": body,
                "created": now,
            }

    def in_flight(self) -> list[str]:
        return sorted(scope.split(":", 1)[1] for scope in self._in_flight)

    def abandon(self, api_key: str, key: str) -> None:
        self._in_flight.discard(self._scope(api_key, key))
