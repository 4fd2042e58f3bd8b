"""Rate limits: per-second request budgets and Stripe's one-concurrent-meter-event-call
per customer per meter rule, counted on the emulator clock so tests are deterministic."""

from __future__ import annotations

from stripe_emulator.errors import StripeError


def rate_limited() -> StripeError:
    return StripeError(
        429,
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        type="invalid_request_error",
        code="rate_limit",
    )


def lock_timeout(customer: str) -> StripeError:
    return StripeError(
        429,
        "This object cannot be accessed right now because another API request or Stripe "
        f"process is currently accessing it (customer '{customer}'). If you see this error "
        "intermittently, retry the request.",
        type="invalid_request_error",
        code="lock_timeout",
        headers={"Stripe-Should-Retry": "true"},
    )


class RateLimiter:
    """Fixed one-second windows keyed by (bucket, emulated second)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._held: set[tuple[str, str]] = set()

    def hit(self, bucket: str, limit: int | None, second: int) -> None:
        if limit is None:
            return
        self._counts = {k: v for k, v in self._counts.items() if k[1] >= second}
        key = (bucket, second)
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        if count > limit:
            raise rate_limited()

    def acquire(self, customer: str, meter: str) -> tuple[str, str]:
        """Claim the (customer, meter) slot or raise 429 lock_timeout."""
        key = (customer, meter)
        if key in self._held:
            raise lock_timeout(customer)
        self._held.add(key)
        return key

    def release(self, key: tuple[str, str]) -> None:
        self._held.discard(key)

    def held(self) -> list[tuple[str, str]]:
        return sorted(self._held)

    def reset(self) -> None:
        self._counts.clear()
