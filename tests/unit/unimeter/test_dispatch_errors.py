"""Failures become statuses: a store that is down answers BACKPRESSURE (the client's
"retry later"), never an exception out of the dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from stripemeter_server.domain.errors import UnavailableError
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.unimeter.backend import Backend
from stripemeter_server.unimeter.dispatch import Peer, dispatch
from stripemeter_server.unimeter.wire import PacketType, Status


class DownStore:
    """A store whose database cannot be reached."""

    dialect = "sqlite"

    @contextmanager
    def unit_of_work(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        raise UnavailableError("the database is unavailable; nothing was stored")
        yield  # pragma: no cover


def test_a_store_that_is_down_answers_backpressure() -> None:
    ctx = ServiceContext(
        store=DownStore(),  # type: ignore[arg-type]
        clock=FrozenClock(datetime(2025, 1, 16, tzinfo=UTC)),
    )
    backend = Backend(ctx, committer=None, tenant_id="default")  # type: ignore[arg-type]
    reply = asyncio.run(dispatch(backend, PacketType.METRIC_LIST, b"", Peer("")))
    assert reply == (Status.BACKPRESSURE, b"")
