"""Each packet type onto our use cases (ADR 0620): decode, run, encode.

Every failure becomes a status, never an exception out of here: a malformed payload or a
request we cannot honour is ``ERR``, an unknown metric ``UNKNOWN_METRIC``, a store that is
down or contended ``BACKPRESSURE`` (the client's "retry later").
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from stripemeter_server.domain.alerts import parse_new_rule
from stripemeter_server.domain.errors import (
    NotFoundError,
    RetryableConflict,
    StripemeterError,
    UnavailableError,
)
from stripemeter_server.service.alerts.rules import replace_named_rules
from stripemeter_server.service.catalog.commands import MetricChanges
from stripemeter_server.service.catalog.metrics import delete_metric, list_metrics, put_metric
from stripemeter_server.service.ingest.outcome import ACCEPTED, DUPLICATE, BatchRequest
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.unimeter import mapping as um
from stripemeter_server.unimeter import payloads, reads, replies
from stripemeter_server.unimeter.backend import Backend
from stripemeter_server.unimeter.wire import PacketType, Status

log = logging.getLogger("stripemeter.unimeter")

Reply = tuple[Status, bytes]
Handler = Callable[[Backend, bytes, "Peer"], Awaitable[Reply]]
NO_REPLY: Final = b""
UNKNOWN_METRIC_CODE: Final = "unknown_metric"  # the pipeline's error code


@dataclass(frozen=True, slots=True)
class Peer:
    """The connection's view of the server: the address its client reached us on (what
    the partition map names as the one node), and when the listener started."""

    address: str
    started: float = 0.0  # time.monotonic() at the listener's start


async def dispatch(backend: Backend, packet_type: int, payload: bytes, peer: Peer) -> Reply:
    handler = HANDLERS.get(packet_type)
    if handler is None:
        return Status.ERR, NO_REPLY
    try:
        return await handler(backend, payload, peer)
    except (payloads.PayloadError, um.MappingError) as exc:
        log.info("unimeter request refused: %s", exc)
        return Status.ERR, NO_REPLY
    except NotFoundError as exc:
        return (Status.UNKNOWN_METRIC if exc.code == "metric_not_found" else Status.ERR), NO_REPLY
    except (UnavailableError, RetryableConflict):
        return Status.BACKPRESSURE, NO_REPLY
    except StripemeterError as exc:
        log.info("unimeter request refused: %s (%s)", exc.message, exc.code)
        return Status.ERR, NO_REPLY
    except Exception:
        log.exception("unimeter request failed")
        return Status.ERR, NO_REPLY


async def ingest(backend: Backend, payload: bytes, _: Peer) -> Reply:
    """Both delivery modes answer after the durable commit: "async" is no weaker here.
    As in Unimeter, events of unknown metrics do not stop the others (ours are not stored:
    the pipeline refuses them, unless the tenant auto-creates metrics)."""
    events = payloads.decode_ingest(payload)
    if not events:
        return Status.OK, replies.ingest_result(0, 0, 0)
    raw = [um.ingest_event(e) for e in events]
    request = BatchRequest(raw, backend.now(), f"um_{uuid.uuid4().hex[:24]}", "unimeter")
    outcome = await backend.ingest(request)
    stored, duplicates = outcome.count(ACCEPTED), outcome.count(DUPLICATE)
    errors = [r.error_code for r in outcome.results if r.error_code is not None]
    if errors:
        log.info(
            "unimeter ingest: %d events refused (%s)", len(errors), ", ".join(sorted(set(errors)))
        )
    return ingest_status(stored, duplicates, errors), replies.ingest_result(stored, duplicates, 0)


def ingest_status(stored: int, duplicates: int, errors: list[str]) -> Status:
    """``UNKNOWN_METRIC`` if an event named one, ``ERR`` if another was refused,
    ``DUPLICATE`` if every event was one, else ``OK`` (the reply always has the counts)."""
    if UNKNOWN_METRIC_CODE in errors:
        return Status.UNKNOWN_METRIC
    if errors:
        return Status.ERR
    return Status.DUPLICATE if stored == 0 and duplicates > 0 else Status.OK


async def metric_put(backend: Backend, payload: bytes, _: Peer) -> Reply:
    schema = payloads.decode_metric_put(payload)
    body, rules = um.metric_body(schema), um.threshold_rules(schema)
    prefix, now = f"{um.THRESHOLD_RULE_PREFIX}{schema.code}:", backend.now()

    def put(uow: UnitOfWork) -> None:
        put_metric(uow, MetricChanges.of(body), now)
        replace_named_rules(uow, prefix, [parse_new_rule(rule) for rule in rules], now)

    await backend.run(put)
    return Status.OK, NO_REPLY


async def metric_delete(backend: Backend, payload: bytes, _: Peer) -> Reply:
    code = payloads.decode_metric_code(payload)
    prefix, now = f"{um.THRESHOLD_RULE_PREFIX}{code}:", backend.now()

    def delete(uow: UnitOfWork) -> None:
        delete_metric(uow, code, now)
        replace_named_rules(uow, prefix, [], now)

    await backend.run(delete)
    return Status.OK, NO_REPLY


async def metric_list(backend: Backend, _payload: bytes, _: Peer) -> Reply:
    metrics = await backend.run(list_metrics, read_only=True)
    entries = [(m.code, um.listable(m)) for m in metrics]
    return Status.OK, b"".join(
        replies.metric_entry(code, *shown) for code, shown in entries if shown is not None
    )


async def partition_map(_backend: Backend, _payload: bytes, peer: Peer) -> Reply:
    return Status.OK, replies.partition_map(peer.address)


async def cluster_status(_backend: Backend, _payload: bytes, peer: Peer) -> Reply:
    uptime_ns = max(0, int((time.monotonic() - peer.started) * 1e9)) if peer.started else 0
    return Status.OK, replies.cluster_status(uptime_ns)


async def nothing_to_do(_backend: Backend, _payload: bytes, _: Peer) -> Reply:
    """A rebalance of one node, or enabling pushes (the session keeps that state)."""
    return Status.OK, NO_REPLY


async def usage_query(backend: Backend, payload: bytes, _: Peer) -> Reply:
    query = payloads.decode_usage_query(payload)
    return Status.OK, replies.agg_value(await reads.window(backend, query))


async def usage_realtime(backend: Backend, payload: bytes, _: Peer) -> Reply:
    asked = payloads.decode_realtime(payload)
    return Status.OK, replies.agg_value(await reads.realtime(backend, asked))


async def usage_breakdown(backend: Backend, payload: bytes, _: Peer) -> Reply:
    query = payloads.decode_breakdown(payload)
    cells = await reads.breakdown(backend, query)
    return Status.OK, b"".join(replies.breakdown_entry(list(dims), value) for dims, value in cells)


async def events_list(backend: Backend, payload: bytes, _: Peer) -> Reply:
    return Status.OK, await reads.events(backend, payloads.decode_events_list(payload))


async def alerts_list(backend: Backend, payload: bytes, _: Peer) -> Reply:
    asked = payloads.decode_alerts_list(payload)
    return Status.OK, b"".join(await reads.alerts(backend, asked))


HANDLERS: Final[dict[int, Handler]] = {
    PacketType.INGEST_ASYNC: ingest,
    PacketType.INGEST_SYNC: ingest,
    PacketType.GET_PARTITION_MAP: partition_map,
    PacketType.METRIC_PUT: metric_put,
    PacketType.METRIC_DELETE: metric_delete,
    PacketType.METRIC_LIST: metric_list,
    PacketType.USAGE_QUERY: usage_query,
    PacketType.USAGE_REALTIME: usage_realtime,
    PacketType.USAGE_QUERY_BREAKDOWN: usage_breakdown,
    PacketType.EVENTS_LIST: events_list,
    PacketType.ALERTS_LIST: alerts_list,
    PacketType.ALERT_PUSH_ENABLE: nothing_to_do,
    PacketType.CLUSTER_STATUS: cluster_status,
    PacketType.CLUSTER_REBALANCE: nothing_to_do,
    # PARTITION_MAP_UPDATE and ALERT_PUSH are server pushes: a client sending one gets ERR.
}
