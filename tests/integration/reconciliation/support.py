"""Running reconciliation in process and reading its lines, for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stripemeter_server.domain.reconciliation_scope import parse_period_selector
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.reconciliation.engine import RunPolicy, execute
from stripemeter_server.service.reconciliation.plan import RunScope
from stripemeter_server.service.reconciliation.ports import LineRecord, RunRecord
from stripemeter_server.service.reconciliation.runs import start_run
from tests.integration.stripe_push.support import FAST

POLICY = RunPolicy(page_size=50, push=FAST)


@dataclass
class Result:
    run: RunRecord
    lines: list[LineRecord]

    def attention(self) -> list[LineRecord]:
        return [x for x in self.lines if x.status not in ("ok", "pending")]

    def by(self, customer: str, metric: str) -> LineRecord:
        found = [x for x in self.lines if (x.customer_ref, x.metric) == (customer, metric)]
        assert len(found) == 1, found
        return found[0]


def reconcile(
    ctx: ServiceContext, *, repair: bool = False, tenant: str = "default", **scope: Any
) -> Result:
    period = scope.pop("period", None)
    wanted = RunScope(selector=parse_period_selector(period), **scope)
    with ctx.store.unit_of_work(tenant) as uow:
        run = start_run(uow, wanted, repair, ctx.clock.now())
        uow.commit()
    done = execute(ctx, tenant, run.run_id, POLICY)
    assert done is not None and done.status == "done", done
    with ctx.store.unit_of_work(tenant, read_only=True) as uow:
        lines = uow.reconciliation.lines(run.run_id, limit=100_000)
    return Result(done, lines)
