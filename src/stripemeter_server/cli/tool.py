"""How the command line speaks: one clear line on stderr and a non-zero exit for every
operator error, plain help that fits 80 columns. Done once, for every command."""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperCommand, TyperGroup

from stripemeter_server.domain.errors import StripemeterError

OPERATOR_ERROR_EXIT = 1


class ToolGroup(TyperGroup):
    """The root command group: turns the service's errors into ``error: …`` and exit 1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self)

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except StripemeterError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(OPERATOR_ERROR_EXIT) from None


def _plain_help(command: Any) -> None:
    """Click's own help layout everywhere: no ``<bool>`` metavars, no truncated names."""
    if isinstance(command, TyperCommand | TyperGroup):
        command.rich_markup_mode = None
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _plain_help(sub)
