"""A local, stateful Stripe-compatible server: the official `stripe` library talks to it
exactly as to Stripe (see docs/stripe-emulator.md for the differences)."""

from stripe_emulator.app import EmulatorApp, create_app
from stripe_emulator.clock import EmulatorClock
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer, run

__all__ = ["EmulatorApp", "EmulatorClock", "EmulatorConfig", "EmulatorServer", "create_app", "run"]
