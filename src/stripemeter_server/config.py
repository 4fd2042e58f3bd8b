"""Settings, read once at an entry point (the app factory, a CLI command) from
``STRIPEMETER_*`` variables and ``.env``, and the service policies they describe.

Only entry points import this module: use cases get plain values and policies passed in
(an import-linter contract keeps ``domain`` and ``service`` from importing it).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from stripemeter_server.service.reconciliation.engine import RunPolicy
from stripemeter_server.service.stripe_sync.sender import PushPolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STRIPEMETER_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///data/stripemeter.db"
    sqlite_synchronous: str = "NORMAL"
    db_pool_size: int = 10
    # HTTP processes serving this store (``serve --workers N`` sets it for its workers). With
    # more than one, the per-tenant rate-limit bucket lives in the database on SQLite too, so
    # the processes draw from one bucket instead of one each.
    http_processes: int = 1
    auto_migrate: bool = True
    bootstrap_key: str | None = None
    # Whether tenant ``default``, made on first start, creates a metric for an event naming
    # an unknown one. Off: a typo is refused ("did you mean …?"), never a new metric (0713).
    default_auto_create_metrics: bool = False
    max_batch_events: int = 1000
    max_body_bytes: int = 1024 * 1024
    max_meta_bytes: int = 4096
    max_future_skew_seconds: int = 300
    ingest_writers: int = 0  # 0: one writer on SQLite, two on PostgreSQL
    max_group_events: int = 5000
    host: str = "127.0.0.1"
    port: int = 3000
    # Unimeter's wire protocol (docs/unimeter.md): off unless a port is set. It has no
    # authentication, so it binds loopback unless told otherwise, for one tenant.
    unimeter_port: int | None = None
    unimeter_host: str = "127.0.0.1"
    unimeter_tenant: str = "default"
    # Secrets at rest (comma-separated keys; the first encrypts). The embedded SQLite store
    # makes one beside its file when unset; PostgreSQL deployments must set it.
    secret_key: SecretStr | None = None
    # A single-tenant install may configure the default tenant's Stripe account here.
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    # `serve` on the embedded store with no Stripe key starts the local emulator ("off": never).
    local_stripe: str = "auto"
    local_stripe_port: int = 12111
    stripe_timeout_seconds: float = 20.0
    # Security (docs/operations.md "Security settings"). The hosts a stored account's apiBase
    # may name (``host`` or ``host:port``, comma-separated); the environment's
    # STRIPEMETER_STRIPE_API_BASE and serve's local emulator are always allowed.
    stripe_api_hosts: str = "api.stripe.com,files.stripe.com,meter-events.stripe.com"
    # How long a replaced webhook secret stays valid (PUT /v1/stripe/account may say).
    webhook_secret_grace_seconds: int = 86400
    # Alert webhooks to loopback, private, link-local… addresses (refused unless true).
    allow_private_webhooks: bool = False
    # The Stripe pusher (docs/stripe-sync.md). ``push_worker`` unset: on inside ``serve`` for
    # the embedded SQLite store, off on PostgreSQL (run ``stripemeter worker`` there).
    push_worker: bool | None = None
    push_rate_live: float = 500.0  # meter events/s per live account (Stripe allows 1000)
    push_rate_test: float = 25.0  # per test-mode account
    push_interval_seconds: float = 1.0
    # A claimed push's lease, renewed every quarter of it while its worker lives: a crashed
    # worker's pushes are taken over by another within about this long.
    push_lease_seconds: float = 8.0
    push_full_sweep_seconds: float = 60.0
    push_retry_max_seconds: float = 600.0
    # How often the pusher reads Stripe's asynchronous meter error reports (ADR 0120).
    push_meter_errors_poll_seconds: float = 30.0
    # Per-tenant rate limit defaults (token bucket; a tenant's own limits win; 0: unlimited).
    # Off by default: a single-tenant install must not throttle its own traffic (ADR 0713).
    rate_limit_per_second: float = 0.0
    rate_limit_burst: float = 200.0
    # /health/ready: loops that must have a fresh heartbeat (comma-separated names, e.g.
    # "alert-delivery,stripe-push,stripe-webhook-jobs"), and how old a beat may be.
    ready_workers: str = ""
    worker_stale_seconds: float = 180.0
    # Logs: "json" (one object per line) or "text".
    log_format: str = "json"
    # TEST ONLY: SIGKILL the worker at after_plan | before_send | after_send.
    test_crash_point: str | None = None
    # Reconciliation (docs/reconciliation.md): scheduled runs before each period closes, the
    # default lead (a tenant may set its own), the page size and lease of a run.
    reconcile_schedule: bool = True
    reconcile_lead_seconds: int = 3600
    reconcile_page_size: int = 200
    reconcile_lease_seconds: float = 300.0
    reconcile_interval_seconds: float = 5.0


def push_policy(settings: Settings) -> PushPolicy:
    """The pusher's rates, lease, sweep and retry ceiling."""
    return PushPolicy(
        rate_live=settings.push_rate_live,
        rate_test=settings.push_rate_test,
        lease_s=settings.push_lease_seconds,
        full_sweep_s=settings.push_full_sweep_seconds,
        max_retry_s=settings.push_retry_max_seconds,
        meter_errors_poll_s=settings.push_meter_errors_poll_seconds,
    )


def reconcile_policy(settings: Settings) -> RunPolicy:
    """A run's page size and lease, and the pusher's policy (the same Stripe account)."""
    return RunPolicy(
        page_size=settings.reconcile_page_size,
        lease=timedelta(seconds=settings.reconcile_lease_seconds),
        push=push_policy(settings),
    )
