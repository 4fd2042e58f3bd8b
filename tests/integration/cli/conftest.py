"""The CLI against an embedded store holding tenant ``acme`` (autoCreateMetrics on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stripemeter_server.service.clock import SystemClock
from stripemeter_server.service.operations.tenancy import create_tenant
from stripemeter_server.storage.unit_of_work import Store


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(url)
    store.migrate()
    with store.unit_of_work("acme") as uow:
        create_tenant(uow, "acme", name=None, auto_create_metrics=True, now=SystemClock().now())
        uow.commit()
    store.close()
    return {"STRIPEMETER_DATABASE_URL": url}
