"""Optional SQLite persistence: state survives a restart on the same file."""

from __future__ import annotations

from pathlib import Path

from stripe_emulator import EmulatorClock, EmulatorConfig, EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0


def test_state_survives_restart(tmp_path: Path) -> None:
    state_file = str(tmp_path / "emulator.sqlite")
    config = EmulatorConfig(
        clock=EmulatorClock(frozen_at=T0), state_file=state_file, auto_deliver_webhooks=False
    )
    with EmulatorServer(config) as first:
        created = first.stripe_client().v1.customers.create(params={"name": "Kept"})
    config2 = EmulatorConfig(
        clock=EmulatorClock(frozen_at=T0), state_file=state_file, auto_deliver_webhooks=False
    )
    with EmulatorServer(config2) as second:
        assert second.stripe_client().v1.customers.retrieve(created.id).name == "Kept"
