"""`worker`: the background loops (alert webhook delivery) as their own process.

Run as many workers as you like against PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED``
and a lease, so no delivery attempt is made by two workers at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from stripemeter_server.api.settings import Settings
from stripemeter_server.service.clock import Clock
from stripemeter_server.storage.engine import masked_url
from stripemeter_server.storage.unit_of_work import Store


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def start_in_background(store: Store, clock: Clock) -> tuple[threading.Event, threading.Thread]:
    """Start the delivery loop in a daemon thread (``serve --with-worker``); set the returned
    event to stop it."""
    from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker

    stop = threading.Event()
    delivery = AlertDeliveryWorker(store, clock)
    thread = threading.Thread(target=delivery.run_forever, args=(stop,),
                              name="stripemeter-alert-delivery", daemon=True)
    thread.start()
    return stop, thread


def worker(
    interval: float = typer.Option(1.0, help="Seconds to wait when nothing is due."),
    once: bool = typer.Option(False, "--once", help="Make one pass and exit."),
) -> None:
    """Deliver alert webhooks from the outbox (retries with backoff for 24 h)."""
    from stripemeter_server.service.clock import SystemClock
    from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker

    settings = Settings()
    store = Store(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous,
                  pool_size=settings.db_pool_size)
    if settings.auto_migrate or store.dialect == "sqlite":
        store.migrate()
    delivery = AlertDeliveryWorker(store, SystemClock())
    from stripemeter_server.workers.invoice_jobs import start_invoice_jobs  # Stripe webhook jobs
    start_invoice_jobs(settings, store, SystemClock(), once=once)
    try:
        if once:
            typer.echo(f"attempted {delivery.run_once()} deliveries")
            return
        stop = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        typer.echo(f"stripemeter worker delivering alerts from {masked_url(settings.database_url)}")
        delivery.run_forever(stop, interval)
    finally:
        delivery.close()
        store.close()
