"""What the Unimeter entry point runs on: the process's services, the ingest committer the
HTTP API uses, and the one tenant the protocol (which has no authentication) speaks for."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ingest.group_commit import GroupCommitter
from stripemeter_server.service.ingest.outcome import BatchRequest, IngestOutcome
from stripemeter_server.service.runner import UseCase, run_use_case

T = TypeVar("T")
ACTOR = "unimeter"  # who the audit log names for changes made over the protocol


@dataclass(frozen=True)
class Backend:
    ctx: ServiceContext
    committer: GroupCommitter
    tenant_id: str

    def now(self) -> datetime:
        return self.ctx.clock.now()

    async def run(self, use_case: UseCase[T], *, read_only: bool = False) -> T:
        """One use case, one transaction, in a worker thread (the loop keeps serving)."""
        return await asyncio.to_thread(
            run_use_case, self.ctx.store, self.tenant_id, use_case, read_only=read_only, actor=ACTOR
        )

    async def ingest(self, request: BatchRequest) -> IngestOutcome:
        """Through the group committer, exactly as the HTTP route ingests."""
        return await asyncio.wrap_future(self.committer.submit(self.tenant_id, request))
