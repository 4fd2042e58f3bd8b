"""The Unimeter listener: accepts connections, runs a session for each, and pushes fired
alerts to the sessions that asked for them.

It runs on the HTTP server's event loop (started and stopped by the app's lifespan) and
shares its services and ingest committer, so an event is the same event whichever door it
came in by. The protocol has no authentication: the listener binds loopback unless the
operator names another interface, and speaks for one configured tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Final

from stripemeter_server.service.alerts.events import list_events
from stripemeter_server.service.alerts.ports import AlertEventRecord
from stripemeter_server.unimeter import mapping as um
from stripemeter_server.unimeter import replies
from stripemeter_server.unimeter.backend import Backend
from stripemeter_server.unimeter.dispatch import Peer
from stripemeter_server.unimeter.reads import alert_record
from stripemeter_server.unimeter.session import Session, SessionLimits
from stripemeter_server.unimeter.wire import PacketType

log = logging.getLogger("stripemeter.unimeter")

ALERT_POLL_SECONDS: Final = 1.0
ALERT_PAGE: Final = 500


@dataclass(frozen=True, slots=True)
class UnimeterConfig:
    host: str
    port: int
    tenant_id: str
    max_connections: int = 256
    limits: SessionLimits = field(default_factory=SessionLimits)


class UnimeterServer:
    def __init__(self, backend: Backend, config: UnimeterConfig) -> None:
        self._backend, self._config = backend, config
        self._server: asyncio.Server | None = None
        self._sessions: set[Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._alerts: asyncio.Task[None] | None = None
        self._started = 0.0

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one the system chose for port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._started = time.monotonic()
        self._server = await asyncio.start_server(
            self._accept, self._config.host, self._config.port
        )
        self._alerts = asyncio.create_task(self._push_alerts())

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in [*self._tasks, *([self._alerts] if self._alerts else [])]:
            task.cancel()
        for task in [*self._tasks, *([self._alerts] if self._alerts else [])]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._sessions) >= self._config.max_connections:
            writer.close()
            return
        session = Session(
            self._backend,
            reader,
            writer,
            Peer(_address(writer), self._started),
            self._config.limits,
        )
        self._sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)
            if task is not None:
                self._tasks.discard(task)

    async def _push_alerts(self) -> None:
        """Poll the tenant's fired alerts (like the SSE stream) while anyone listens, and
        push the new ones; alerts fired before the first listener are for ALERTS_LIST."""
        position: int | None = None
        while True:
            await asyncio.sleep(ALERT_POLL_SECONDS)
            listeners = [s for s in self._sessions if s.wants_alerts and s.open]
            if not listeners:
                position = None
                continue
            try:
                if position is None:
                    position = await self._latest_alert()
                    continue
                found = await self._alerts_after(position)
            except Exception:  # the store is down: try again on the next tick
                log.warning("unimeter alert poll failed", exc_info=True)
                continue
            for event in found:
                position = event.seq
                await _broadcast(listeners, event)

    async def _alerts_after(self, position: int) -> list[AlertEventRecord]:
        return await self._backend.run(
            lambda uow: list_events(uow, after_seq=position, limit=ALERT_PAGE), read_only=True
        )

    async def _latest_alert(self) -> int:
        position = 0
        while found := await self._alerts_after(position):
            position = found[-1].seq
            if len(found) < ALERT_PAGE:
                break
        return position


async def _broadcast(listeners: list[Session], event: AlertEventRecord) -> None:
    account = um.account_id(event.customer_ref)
    if account is None:
        return  # not a Unimeter account: its clients cannot name it
    record = alert_record(event.seq, account, event.metric or "", event.payload, event.created_us)
    for session in listeners:
        await session.push(PacketType.ALERT_PUSH, replies.alert_push(record))


def _address(writer: asyncio.StreamWriter) -> str:
    """host:port the client reached (the address it can reach us on again)."""
    name = writer.get_extra_info("sockname")
    if isinstance(name, tuple) and len(name) >= 2:
        return f"{name[0]}:{name[1]}"
    return ""
