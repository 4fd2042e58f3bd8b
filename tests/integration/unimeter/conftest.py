"""A Unimeter backend on a fresh SQLite store with a frozen clock (the protocol's storage
is the use cases', tested on both stores elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ingest.group_commit import GroupCommitter
from stripemeter_server.unimeter.backend import Backend
from tests.conftest import open_store


@pytest.fixture
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> Iterator[Backend]:
    store = open_store("sqlite", request, tmp_path)
    ctx = ServiceContext(store=store, clock=clock)
    committer = GroupCommitter(ctx)
    yield Backend(ctx, committer, "default")
    committer.stop()
    store.close()
