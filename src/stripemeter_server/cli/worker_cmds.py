"""`worker`: the background loops (alert webhook delivery, the Stripe pusher) as their own
process.

Run as many workers as you like against PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED``
and a lease, so no delivery attempt or push is made by two workers at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from stripemeter_server.api.settings import Settings
from stripemeter_server.service.clock import Clock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.push_sender import PushPolicy
from stripemeter_server.storage.unit_of_work import Store


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def push_policy(settings: Settings) -> PushPolicy:
    return PushPolicy(rate_live=settings.push_rate_live, rate_test=settings.push_rate_test,
                      lease_s=settings.push_lease_seconds,
                      full_sweep_s=settings.push_full_sweep_seconds,
                      max_retry_s=settings.push_retry_max_seconds)


def start_in_background(store: Store, clock: Clock, *, alerts: bool = True,
                        push: ServiceContext | None = None,
                        settings: Settings | None = None) -> threading.Event:
    """Start the loops in daemon threads (``serve``): alert delivery and, given a context,
    the Stripe pusher. Set the returned event to stop them."""
    from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker
    from stripemeter_server.workers.stripe_push import StripePushWorker

    stop = threading.Event()
    if alerts:
        delivery = AlertDeliveryWorker(store, clock)
        threading.Thread(target=delivery.run_forever, args=(stop,),
                         name="stripemeter-alert-delivery", daemon=True).start()
    if push is not None:
        settings = settings or Settings()
        pusher = StripePushWorker(push, push_policy(settings))
        threading.Thread(target=pusher.run_forever,
                         args=(stop, settings.push_interval_seconds),
                         name="stripemeter-stripe-push", daemon=True).start()
    return stop


def worker(
    interval: float = typer.Option(1.0, help="Seconds to wait when nothing is due."),
    once: bool = typer.Option(False, "--once", help="Make one pass of each loop and exit."),
) -> None:
    """Deliver alert webhooks and push usage to Stripe (both from their outboxes)."""
    from stripemeter_server.api.app import build_context
    from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker
    from stripemeter_server.workers.stripe_push import StripePushWorker, crash_hook

    settings = Settings()
    ctx = build_context(settings)
    store = ctx.store
    if settings.auto_migrate or store.dialect == "sqlite":
        store.migrate()
    delivery = AlertDeliveryWorker(store, ctx.clock)
    pusher = StripePushWorker(ctx, push_policy(settings),
                              hook=crash_hook(settings.test_crash_point))
    try:
        if once:
            typer.echo(f"attempted {delivery.run_once()} deliveries")
            report = pusher.run_once()
            typer.echo(f"planned {report.planned} pushes, sent {report.sent}, "
                       f"retrying {report.retrying}, failed {report.failed}")
            return
        stop = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        typer.echo("stripemeter worker: delivering alerts and pushing usage to Stripe")
        threading.Thread(target=delivery.run_forever, args=(stop, interval),
                         name="stripemeter-alert-delivery", daemon=True).start()
        pusher.run_forever(stop, settings.push_interval_seconds)
    finally:
        delivery.close()
        store.close()
