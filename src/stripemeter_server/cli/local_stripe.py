"""The local Stripe for `make run`: with no Stripe account configured on the embedded store,
`serve` starts the project's emulator in-process and points the ``default`` tenant at it, so
a new user runs the whole loop (push, invoice webhook) with no Stripe account.

The emulator keeps its state in a file beside the database, so a restart finds the meter
events it already received (the push outbox's record of what was sent stays true). Its
webhook endpoint for ``/v1/stripe/webhook/default`` is registered anew at every start, with
a fresh signing secret that is handed to the service in memory only.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from stripe_emulator import EmulatorConfig, EmulatorServer
from stripemeter_server.service.ports.stripe import StripeCredentials

EMULATOR_KEY = "sk_test_local_emulator"
WEBHOOK_EVENTS = ("invoice.created", "invoice.finalized")


@dataclass
class LocalStripe:
    server: EmulatorServer
    credentials: StripeCredentials
    # The port asked for when another process holds it (the emulator runs elsewhere).
    port_taken: int | None = None

    def stop(self) -> None:
        self.server.stop()


def _port_is_free(port: int) -> bool:
    """Whether the emulator can listen on ``port``. Bound with ``SO_REUSEADDR`` as uvicorn
    binds, so the connections of a server stopped a moment ago (in TIME_WAIT) do not count
    as a listener: a quick restart keeps the port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start(config: EmulatorConfig, port: int) -> tuple[EmulatorServer, int | None]:
    """The server, and the asked port when another process holds it."""
    if _port_is_free(port):
        try:
            return EmulatorServer(config, port=port).start(), None
        except RuntimeError:  # another process took the port between the check and the bind
            pass
    return EmulatorServer(config).start(), port


def start_local_stripe(database_path: Path, emulator_port: int, service_url: str) -> LocalStripe:
    """Start the emulator (on ``emulator_port``, or a free port if that one is taken)."""
    state = database_path.parent / "stripe-emulator.db"
    state.parent.mkdir(parents=True, exist_ok=True)
    server, taken = _start(EmulatorConfig(state_file=str(state)), emulator_port)
    client = server.stripe_client(EMULATOR_KEY)
    hook_url = f"{service_url}/v1/stripe/webhook/default"
    for endpoint in client.v1.webhook_endpoints.list().data:
        if endpoint.url == hook_url:
            client.v1.webhook_endpoints.delete(endpoint.id)
    created = client.v1.webhook_endpoints.create(
        params={"url": hook_url, "enabled_events": list(WEBHOOK_EVENTS)}
    )
    credentials = StripeCredentials(EMULATOR_KEY, str(created.secret), server.url)
    return LocalStripe(server, credentials, taken)
