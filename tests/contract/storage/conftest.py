"""Fixtures shared by the storage contract suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import open_store


@pytest.fixture(scope="module")
def both_stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Store]]:
    """One SQLite and one PostgreSQL store, shared by a module's examples (fresh tenants)."""
    path: Path = tmp_path_factory.mktemp("both")
    stores = [open_store("sqlite", request, path), open_store("postgres", request, path)]
    yield stores
    for opened in stores:
        opened.close()
