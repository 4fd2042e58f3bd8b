"""stripemeter server: usage metering for usage-based billing on Stripe."""

__version__ = "0.1.0"
