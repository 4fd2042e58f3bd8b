"""The Unimeter codec against the public client's own encoders and decoders
(``unimeter-python``, a test-only dependency): what it sends we read, what we send it reads;
and no byte string makes a decoder do anything but return or refuse."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from unimeter import protocol as client

from stripemeter_server.unimeter import payloads, replies
from stripemeter_server.unimeter.wire import (
    DEFAULT_MAX_PAYLOAD,
    REQUEST_HEADER_SIZE,
    FrameRefused,
    RequestHeader,
    encode_request,
    parse_request_header,
)

u64 = st.integers(0, 2**64 - 1)
i64 = st.integers(-(2**63), 2**63 - 1)
# NUL-free text that fits its field whole (the client cuts longer text at a byte count)
name = st.text(st.characters(min_codepoint=1, max_codepoint=0x7F), min_size=1, max_size=31)
long_name = st.text(st.characters(min_codepoint=1, max_codepoint=0x7F), min_size=1, max_size=63)
props = st.lists(st.tuples(name, long_name), max_size=3)
wire_event = st.tuples(long_name, u64, i64, u64, st.sampled_from([0, 1]), props)

DECODERS = [
    payloads.decode_ingest,
    payloads.decode_metric_put,
    payloads.decode_metric_code,
    payloads.decode_usage_query,
    payloads.decode_breakdown,
    payloads.decode_realtime,
    payloads.decode_events_list,
    payloads.decode_alerts_list,
]


@given(
    st.sampled_from(list(client.PacketType)),
    st.binary(max_size=64),
    st.integers(1, 2**32 - 1),
    st.integers(0, 0xFFFF),
)
def test_a_client_request_header_parses_back(
    packet: int, payload: bytes, request_id: int, partition: int
) -> None:
    head = client.encode_request_header(packet, len(payload), request_id, partition)
    assert parse_request_header(head) == RequestHeader(
        1, packet, partition, len(payload), request_id
    )


@given(st.binary(min_size=REQUEST_HEADER_SIZE, max_size=REQUEST_HEADER_SIZE))
def test_any_sixteen_bytes_give_a_header_or_a_refusal(data: bytes) -> None:
    parsed = parse_request_header(data)
    assert isinstance(parsed, RequestHeader | FrameRefused)
    if isinstance(parsed, RequestHeader):
        assert parsed.payload_len <= DEFAULT_MAX_PAYLOAD


def test_a_payload_over_the_cap_is_refused_before_it_is_read() -> None:
    head = (
        encode_request(0x01, b"", 7)[:8]
        + (DEFAULT_MAX_PAYLOAD + 1).to_bytes(4, "little")
        + (7).to_bytes(4, "little")
    )
    assert parse_request_header(head) == FrameRefused(
        7, f"payload of {DEFAULT_MAX_PAYLOAD + 1} bytes; at most {DEFAULT_MAX_PAYLOAD}"
    )


def test_a_wrong_magic_is_refused() -> None:
    head = b"\x00" * 12 + (9).to_bytes(4, "little")
    refused = parse_request_header(head)
    assert isinstance(refused, FrameRefused) and refused.request_id == 9


@given(st.lists(wire_event, max_size=6))
def test_ingest_payload_round_trips(
    events: list[tuple[str, int, int, int, int, list[tuple[str, str]]]],
) -> None:
    encoded = client.encode_ingest_payload(
        [(m, a, ts, v, op, len(p), p) for m, a, ts, v, op, p in events]
    )
    decoded = payloads.decode_ingest(encoded)
    assert [
        (e.metric, e.account_id, e.timestamp_ns, e.value, e.operation, list(e.properties))
        for e in decoded
    ] == [(m, a, ts, v, op, p) for m, a, ts, v, op, p in events]


@given(
    long_name,
    st.sampled_from([0, 1, 2, 3, 4]),
    st.booleans(),
    long_name,
    st.lists(st.tuples(name, st.lists(name, min_size=1, max_size=8)), max_size=3),
    st.lists(st.tuples(name, u64, st.booleans()), max_size=3),
    st.integers(0, 3),
    st.integers(0, 28),
)
def test_metric_schema_round_trips(
    code: str,
    agg: int,
    recurring: bool,
    field: str,
    filters: list[tuple[str, list[str]]],
    thresholds: list[tuple[str, int, bool]],
    period: int,
    day: int,
) -> None:
    encoded = client.encode_metric_put(
        code, agg, recurring, field, filters, thresholds, period, day
    )
    schema = payloads.decode_metric_put(encoded)
    assert (schema.code, schema.agg_type, schema.recurring, schema.field_name) == (
        code,
        agg,
        recurring,
        field,
    )
    assert [(f.key, list(f.values)) for f in schema.filters] == [(k, v) for k, v in filters]
    assert [(t.code, t.value, t.recurring) for t in schema.thresholds] == thresholds
    assert (schema.period_type, schema.billing_cycle_day) == (period, day)


@given(u64, long_name, i64, i64, st.dictionaries(name, name, max_size=3))
def test_usage_query_round_trips(
    account: int, metric: str, start: int, end: int, filters: dict[str, str]
) -> None:
    query = payloads.decode_usage_query(
        client.encode_usage_query(account, metric, start, end, filters)
    )
    assert (query.account_id, query.metric, query.start_ns, query.end_ns) == (
        account,
        metric,
        start,
        end,
    )
    assert {f.key: f.values[0] for f in query.filters} == filters


@given(u64, long_name, i64, i64, st.lists(name, min_size=1, max_size=4))
def test_breakdown_query_round_trips(
    account: int, metric: str, start: int, end: int, keys: list[str]
) -> None:
    query = payloads.decode_breakdown(
        client.encode_usage_query_breakdown(account, metric, start, end, keys)
    )
    assert (query.account_id, query.metric, query.group_by) == (account, metric, tuple(keys))


@given(u64, long_name, u64, i64, i64)
def test_small_requests_round_trip(
    account: int, metric: str, offset: int, since: int, until: int
) -> None:
    assert payloads.decode_realtime(
        client.encode_usage_realtime(account, metric)
    ) == payloads.AccountMetric(account, metric)
    assert payloads.decode_metric_code(client.encode_metric_delete(metric)) == metric
    assert payloads.decode_events_list(
        client.encode_events_list(account, since, until)
    ) == payloads.EventsWindow(account, since, until)
    assert payloads.decode_alerts_list(
        client.encode_alerts_list(account, offset)
    ) == payloads.AlertsSince(account, offset)


@given(st.integers(0, 2**128 - 1), u64, u64, u64, i64, u64)
def test_aggregate_value_reads_back_in_the_client(
    total: int, count: int, top: int, last: int, ts: int, flags: int
) -> None:
    encoded = replies.agg_value(replies.AggValue(total, count, top, last, ts, flags))
    assert client.decode_agg_value(encoded) == (total, count, top, last, ts, flags)


def test_values_outside_the_wire_range_are_held_to_it() -> None:
    assert replies.whole(Decimal("-3.5")) == 0
    assert replies.whole(Decimal("7.9")) == 7
    assert replies.whole(Decimal(2**70)) == 2**64 - 1


@given(st.lists(st.tuples(st.lists(st.tuples(name, name), max_size=4), u64), max_size=4))
def test_breakdown_entries_read_back_in_the_client(
    cells: list[tuple[list[tuple[str, str]], int]],
) -> None:
    encoded = b"".join(
        replies.breakdown_entry(dims, replies.AggValue(count=n)) for dims, n in cells
    )
    decoded = client.decode_usage_query_breakdown_response(encoded)
    assert [(dims, count) for dims, _s, count, *_ in decoded] == cells


@given(u64, u64, long_name, name, u64, i64)
def test_alert_records_and_pushes_read_back_in_the_client(
    offset: int, account: int, metric: str, code: str, value: int, ts: int
) -> None:
    record = replies.alert_record(offset, account, metric, code, value, ts)
    assert client.decode_alerts_list_response(record) == [
        (offset, account, metric, code, value, ts)
    ]
    assert client.decode_alert_push(replies.alert_push(record)) == (
        0,
        offset,
        account,
        metric,
        code,
        value,
        ts,
    )


def test_the_partition_map_names_one_node_for_every_partition() -> None:
    entries = client.decode_partition_map(replies.partition_map("127.0.0.1:7001"))
    assert set(entries) == {("127.0.0.1:7001", "", "")} and len(entries) == 256


def test_a_metric_list_entry_is_what_the_client_parses() -> None:
    entry = replies.metric_entry("api_calls", 4, "user_id")
    assert len(entry) == 132 and entry[:9] == b"api_calls" and entry[64] == 4


def test_text_is_cut_on_a_character_boundary() -> None:
    assert replies.fixed("é" * 40, 64).rstrip(b"\x00").decode("utf-8") == "é" * 31


@given(st.sampled_from(DECODERS), st.binary(max_size=2048))
def test_random_payloads_decode_or_are_refused(decoder: object, data: bytes) -> None:
    """Anything but a ``PayloadError`` (which the session answers with ERR) fails this."""
    with contextlib.suppress(payloads.PayloadError):
        decoder(data)  # type: ignore[operator]


@given(st.lists(wire_event, min_size=1, max_size=4), st.data())
def test_every_truncation_of_an_ingest_payload_is_refused(
    events: list[tuple[str, int, int, int, int, list[tuple[str, str]]]], data: st.DataObject
) -> None:
    encoded = client.encode_ingest_payload(
        [(m, a, ts, v, op, len(p), p) for m, a, ts, v, op, p in events]
    )
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(payloads.PayloadError):
        payloads.decode_ingest(encoded[:cut])


def test_a_lying_event_count_is_refused_without_building_anything() -> None:
    head = (payloads.MAX_INGEST_EVENTS + 1).to_bytes(4, "little") + b"\x00" * 4
    with pytest.raises(payloads.PayloadError, match="at most"):
        payloads.decode_ingest(head)


def test_a_character_split_by_the_clients_cut_is_dropped() -> None:
    value = "д" * 40  # 80 bytes: the client keeps 63, half of the 32nd letter
    encoded = client.encode_ingest_payload([("m", 1, 0, 1, 0, 1, [("k", value)])])
    assert payloads.decode_ingest(encoded)[0].properties == (("k", "д" * 31),)


def test_invalid_utf8_inside_a_string_is_refused() -> None:
    with pytest.raises(payloads.PayloadError, match="metric_code"):
        payloads.text(b"ab\xffcd", "metric_code")
