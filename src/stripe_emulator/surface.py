"""Registers the billing surface beyond metering, one module per resource family."""

from __future__ import annotations

from stripe_emulator import credits, sub_changes, test_clocks
from stripe_emulator.routing import Router


def register(router: Router) -> None:
    for module in (test_clocks, sub_changes, credits):
        module.register(router)
