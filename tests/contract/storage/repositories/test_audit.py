"""AuditRepository: entries are the tenant's own, newest first, filtered, keyset-paged."""

from __future__ import annotations

from stripemeter_server.domain.queries import AuditFilter
from stripemeter_server.service.operations.ports import AuditRecord
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def entry(
    audit_id: str, created_us: int, action: str = "metric.create", actor: str = "key_1"
) -> AuditRecord:
    return AuditRecord(
        audit_id, created_us, actor, action, "metric", "calls", None, '{"a":1}', "req_1"
    )


def fill(store: AnyStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        uow.audit.add(TENANT, entry("au_1", 10))
        uow.audit.add(TENANT, entry("au_2", 20, "metric.delete"))
        uow.audit.add(TENANT, entry("au_3", 20, actor="key_2"))
        uow.audit.add("other", entry("au_4", 30))
        uow.commit()


def ids(records: list[AuditRecord]) -> list[str]:
    return [r.audit_id for r in records]


def test_a_tenant_sees_its_own_entries_newest_first(any_store: AnyStore) -> None:
    fill(any_store)
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        page = uow.audit.page(AuditFilter(), before=None, limit=10)
    assert (ids(page), page[-1]) == (["au_3", "au_2", "au_1"], entry("au_1", 10))


def test_filters_narrow_the_entries(any_store: AnyStore) -> None:
    fill(any_store)
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        deletes = uow.audit.page(AuditFilter(action="metric.delete"), before=None, limit=10)
        mine = uow.audit.page(AuditFilter(actor="key_1"), before=None, limit=10)
        window = uow.audit.page(AuditFilter(from_us=15, to_us=25), before=None, limit=10)
    assert (ids(deletes), ids(mine), ids(window)) == (["au_2"], ["au_2", "au_1"], ["au_3", "au_2"])


def test_the_keyset_cursor_continues_after_the_last_entry(any_store: AnyStore) -> None:
    fill(any_store)
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        first = uow.audit.page(AuditFilter(), before=None, limit=2)
        rest = uow.audit.page(
            AuditFilter(), before=(first[-1].created_us, first[-1].audit_id), limit=2
        )
    assert (ids(first), ids(rest)) == (["au_3", "au_2"], ["au_1"])
