"""`worker`: the background loops — alert webhook delivery, the Stripe pusher, the Stripe
webhook jobs (invoice items), reconciliation runs and housekeeping (old ingest tallies,
expired dashboard sessions) — as their own process.

Run as many workers as you like against PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED``
and a lease, so no delivery attempt, push or webhook job is worked on by two at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

import typer

from stripemeter_server.api import logs
from stripemeter_server.config import Settings, push_policy, reconcile_policy
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.storage.engine import masked_url
from stripemeter_server.workers.event_partitions import EventPartitionsWorker
from stripemeter_server.workers.heartbeat import BeatingStop, worker_id

if TYPE_CHECKING:
    from stripemeter_server.workers.alert_delivery import DeliveryPolicy
    from stripemeter_server.workers.reconciliation import ReconciliationWorker


HOUSEKEEPING_SECONDS = 60.0  # old ingest tallies and expired sessions: no hurry


PARTITIONS_INTERVAL_S = 3600.0  # the ledger's months are prepared two ahead: hourly is plenty


def _start_partitions(loop: EventPartitionsWorker, stop: threading.Event) -> None:
    """The ledger partitions' loop: hourly, so it has no heartbeat (readiness would call an
    hour-old beat stale); a missed pass costs nothing for two months (ADR 0810)."""
    threading.Thread(
        target=loop.run_forever,
        args=(stop, PARTITIONS_INTERVAL_S),
        name="stripemeter-event-partitions",
        daemon=True,
    ).start()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def reconciliation_worker(ctx: ServiceContext, settings: Settings) -> ReconciliationWorker:
    from stripemeter_server.workers.reconciliation import ReconciliationWorker

    return ReconciliationWorker(
        ctx,
        reconcile_policy(settings),
        lead_seconds=settings.reconcile_lead_seconds,
        schedule=settings.reconcile_schedule,
    )


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    """Alert delivery's policy: private destinations only if the operator allows them."""
    from stripemeter_server.workers.alert_delivery import DeliveryPolicy

    return DeliveryPolicy(allow_private=settings.allow_private_webhooks)


def start_in_background(
    ctx: ServiceContext, settings: Settings, *, alerts: bool = True, stripe: bool = False
) -> threading.Event:
    """Start the loops in daemon threads (``serve``): alert delivery and, with ``stripe``,
    the pusher, the webhook jobs and reconciliation. Set the returned event to stop them."""
    from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker
    from stripemeter_server.workers.housekeeping import HousekeepingWorker
    from stripemeter_server.workers.invoice_jobs import InvoiceJobWorker
    from stripemeter_server.workers.stripe_push import StripePushWorker

    stop = threading.Event()
    loops: list[tuple[str, object, float]] = []
    if alerts or stripe:
        loops.append(
            ("housekeeping", HousekeepingWorker(ctx.store, ctx.clock), HOUSEKEEPING_SECONDS)
        )
    _start_partitions(EventPartitionsWorker(ctx.store, ctx.clock), stop)
    if alerts:
        loops.append(
            (
                "alert-delivery",
                AlertDeliveryWorker(ctx.store, ctx.clock, delivery_policy(settings)),
                1.0,
            )
        )
    if stripe:
        loops.append(
            (
                "stripe-push",
                StripePushWorker(ctx, push_policy(settings)),
                settings.push_interval_seconds,
            )
        )
        loops.append(("stripe-webhook-jobs", InvoiceJobWorker(ctx), 1.0))
        loops.append(
            (
                "reconciliation",
                reconciliation_worker(ctx, settings),
                settings.reconcile_interval_seconds,
            )
        )
    process = worker_id()
    for name, loop, interval in loops:
        beating = BeatingStop(stop, ctx.store, ctx.clock, name, process=process)
        run = loop.run_forever  # type: ignore[attr-defined]
        threading.Thread(
            target=run, args=(beating, interval), name=f"stripemeter-{name}", daemon=True
        ).start()
    return stop


def loop_names(*, alerts: bool, stripe: bool) -> list[str]:
    """The loops ``start_in_background`` runs (their heartbeat names)."""
    return (
        (["housekeeping"] if alerts or stripe else [])
        + (["alert-delivery"] if alerts else [])
        + (["stripe-push", "stripe-webhook-jobs", "reconciliation"] if stripe else [])
    )


def worker(
    interval: float = typer.Option(1.0, help="Seconds to wait when nothing is due."),
    once: bool = typer.Option(False, "--once", help="Make one pass of each loop and exit."),
) -> None:
    """Deliver alert webhooks, push usage to Stripe, run Stripe webhook jobs and
    reconciliation runs."""
    from stripemeter_server.api.app import build_context
    from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker
    from stripemeter_server.workers.housekeeping import HousekeepingWorker
    from stripemeter_server.workers.invoice_jobs import InvoiceJobWorker
    from stripemeter_server.workers.stripe_push import StripePushWorker, crash_hook

    settings = Settings()
    if not once:  # a long-running worker logs JSON lines; `--once` prints a summary
        logs.configure(settings.log_format)
    ctx = build_context(settings)
    store = ctx.store
    if settings.auto_migrate or store.dialect == "sqlite":
        store.migrate()
    delivery = AlertDeliveryWorker(store, ctx.clock, delivery_policy(settings))
    pusher = StripePushWorker(
        ctx, push_policy(settings), hook=crash_hook(settings.test_crash_point)
    )
    jobs = InvoiceJobWorker(ctx)
    reconciler = reconciliation_worker(ctx, settings)
    housekeeping = HousekeepingWorker(store, ctx.clock)
    partitions = EventPartitionsWorker(store, ctx.clock)
    try:
        if once:
            typer.echo(f"attempted {delivery.run_once()} deliveries")
            report = pusher.run_once()
            typer.echo(
                f"planned {report.planned} pushes, sent {report.sent}, "
                f"retrying {report.retrying}, failed {report.failed}"
            )
            typer.echo(f"ran {jobs.run_once()} Stripe webhook jobs")
            typer.echo(f"executed {reconciler.run_once()} reconciliation runs")
            swept = housekeeping.run_once()
            typer.echo(
                f"pruned {swept.tallies} ingest tallies, {swept.sessions} expired "
                "dashboard sessions"
            )
            typer.echo(f"created {len(partitions.run_once())} ledger partitions")
            return
        from stripemeter_server.cli.serve_cmds import settle_startup_objects

        # As ``serve`` does (ADR 0964): a full collection walked the start-up heap again in
        # each v2 drain, a pause of 0.1-0.5 s that held every sending lane (ADR 0973).
        settle_startup_objects()
        stop = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        typer.echo(
            f"stripemeter worker on {masked_url(settings.database_url)}: delivering "
            "alerts, pushing usage to Stripe, running Stripe webhook jobs and "
            "reconciliation runs"
        )
        process = worker_id()
        _start_partitions(partitions, stop)
        for name, loop, every in (
            ("alert-delivery", delivery, interval),
            ("stripe-webhook-jobs", jobs, interval),
            ("housekeeping", housekeeping, HOUSEKEEPING_SECONDS),
        ):
            threading.Thread(
                target=loop.run_forever,
                args=(BeatingStop(stop, store, ctx.clock, name, process=process), every),
                name=f"stripemeter-{name}",
                daemon=True,
            ).start()
        threading.Thread(
            target=reconciler.run_forever,
            args=(
                BeatingStop(stop, store, ctx.clock, "reconciliation", process=process),
                settings.reconcile_interval_seconds,
            ),
            name="stripemeter-reconciliation",
            daemon=True,
        ).start()
        pusher.run_forever(
            BeatingStop(stop, store, ctx.clock, "stripe-push", process=process),
            settings.push_interval_seconds,
        )
    finally:
        delivery.close()
        store.close()
