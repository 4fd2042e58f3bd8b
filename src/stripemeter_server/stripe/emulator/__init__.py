"""A local, stateful Stripe-compatible server: the official `stripe` library talks to it
exactly as to Stripe (see docs/stripe-emulator.md for the differences)."""

from stripemeter_server.stripe.emulator.app import EmulatorApp, create_app
from stripemeter_server.stripe.emulator.clock import EmulatorClock
from stripemeter_server.stripe.emulator.config import EmulatorConfig
from stripemeter_server.stripe.emulator.server import EmulatorServer, run

__all__ = ["EmulatorApp", "EmulatorClock", "EmulatorConfig", "EmulatorServer", "create_app",
           "run"]
