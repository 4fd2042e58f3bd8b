"""The `stripemeter` command line. Settings are read here, once, and passed down."""

from __future__ import annotations

import typer

from stripemeter_server.cli import (
    admin_cmds,
    reconcile_cmds,
    serve_cmds,
    stripe_cmds,
    transfer_cmds,
    worker_cmds,
)
from stripemeter_server.cli.tool import ToolGroup

app = typer.Typer(
    name="stripemeter",
    help="Usage metering for usage-based billing on Stripe.",
    no_args_is_help=True,
    add_completion=False,
    cls=ToolGroup,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
serve_cmds.register(app)
admin_cmds.register(app)
worker_cmds.register(app)
stripe_cmds.register(app)
transfer_cmds.register(app)
reconcile_cmds.register(app)


@app.command("stripe-emulator")
def stripe_emulator(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(12111, help="Port to listen on."),
    state_file: str | None = typer.Option(
        None, "--state-file", help="Persist emulator state to this SQLite file."
    ),
    reset: bool = typer.Option(
        False, "--reset", help="Start empty: forget the state file's objects and clock."
    ),
    sync_meter_errors: bool = typer.Option(
        False,
        "--sync-meter-errors",
        help="Refuse meter events for an unknown meter or customer at once (400) instead of "
        "answering 200 and reporting them later, as Stripe does.",
    ),
) -> None:
    """Run the local Stripe-compatible emulator (no Stripe account needed)."""
    from stripe_emulator.server import run

    run(
        host=host,
        port=port,
        state_file=state_file,
        reset=reset,
        async_meter_errors=not sync_meter_errors,
    )


def main() -> None:  # pragma: no cover - console entry
    app()
