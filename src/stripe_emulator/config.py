"""Emulator settings, passed to `create_app`; nothing is read from the environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from stripe_emulator.clock import EmulatorClock

# Stripe retries failed webhook deliveries with exponential backoff for up to three days.
DEFAULT_WEBHOOK_RETRY_SCHEDULE: tuple[int, ...] = (
    60,
    300,
    1800,
    3600,
    7200,
    14400,
    28800,
    57600,
    86400,
    86400,
    86400,
)


@dataclass
class EmulatorConfig:
    """Knobs for tests and local development; defaults behave like Stripe test mode."""

    clock: EmulatorClock = field(default_factory=EmulatorClock)
    state_file: str | None = None
    # None accepts any `sk_…`/`rk_…` key, like a fresh test account.
    api_keys: tuple[str, ...] | None = None
    # Per-second request limits (None = unlimited); counted per emulated second.
    requests_per_second: int | None = None
    meter_events_per_second: int | None = None
    # Stripe allows one concurrent meter-event call per customer per meter.
    meter_event_concurrency_per_customer: bool = True
    # Reject meter events for customers the emulator has never seen (Stripe reports
    # these asynchronously; synchronous rejection makes tests explicit).
    require_known_customers: bool = True
    # Answer 200 to meter events for an unknown meter or customer and report the error
    # later as a v2 event, as Stripe does (event_destinations.py); off = refuse at once
    # (400 `no_meter` / `meter_event_customer_not_found`, for tests that want it explicit).
    async_meter_errors: bool = True
    # Deliver webhooks from a background task; off = only via the control surface.
    auto_deliver_webhooks: bool = True
    webhook_poll_interval: float = 0.5
    webhook_timeout: float = 5.0
    webhook_retry_schedule: tuple[int, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    # Seconds between a successful `invoice.created` delivery and auto-finalization.
    invoice_finalize_grace: int = 3600
    meter_event_session_ttl: int = 900
    idempotency_ttl: int = 86400
