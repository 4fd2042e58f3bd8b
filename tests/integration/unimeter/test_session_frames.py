"""Malformed frames are answered with ERR, never a crash or a hang: the session on byte
streams built to be wrong in every way the framing allows (hypothesis), and by case."""

from __future__ import annotations

import asyncio
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.unimeter.backend import Backend
from stripemeter_server.unimeter.dispatch import Peer
from stripemeter_server.unimeter.session import Session, SessionLimits
from stripemeter_server.unimeter.wire import (
    MAGIC,
    RESPONSE_HEADER_SIZE,
    PacketType,
    Status,
    encode_request,
    parse_response_header,
)

LIMITS = SessionLimits(max_payload=4096, idle_seconds=5, frame_seconds=5)
GUARD_SECONDS = 60  # a hang guard, not a speed assertion


class Collected:
    """A writer that keeps what the session wrote."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    async def wait_closed(self) -> None:
        return None


def responses(data: bytes) -> list[tuple[int, int, bytes]]:
    """Split a response stream into (status, request id, payload); it must split exactly."""
    found, at = [], 0
    while at < len(data):
        status, request_id, length = parse_response_header(data[at : at + RESPONSE_HEADER_SIZE])
        payload = data[at + RESPONSE_HEADER_SIZE : at + RESPONSE_HEADER_SIZE + length]
        assert len(payload) == length, "a response frame was cut short"
        found.append((status, request_id, payload))
        at += RESPONSE_HEADER_SIZE + length
    return found


def serve(backend: Backend, stream: bytes) -> tuple[list[tuple[int, int, bytes]], bool]:
    """Run one session over ``stream`` then end of file; (responses, writer closed)."""

    async def run() -> Collected:
        reader = asyncio.StreamReader()
        reader.feed_data(stream)
        reader.feed_eof()
        writer = Collected()
        await asyncio.wait_for(
            Session(backend, reader, writer, Peer("127.0.0.1:7001"), LIMITS).run(), GUARD_SECONDS
        )
        return writer

    writer = asyncio.run(run())
    return responses(bytes(writer.data)), writer.closed


frame = st.builds(
    lambda magic, version, packet, declared, payload, request_id: (
        struct.pack(
            "<IBBHII",
            magic,
            version,
            packet,
            0xFFFF,
            len(payload) if declared is None else declared,
            request_id,
        )
        + payload
    ),
    st.sampled_from([MAGIC, MAGIC, MAGIC, 0, 0xDEADBEEF]),
    st.sampled_from([1, 1, 1, 0, 2, 255]),
    st.sampled_from([int(p) for p in PacketType] + [0x02, 0x99, 0xFF]),
    st.one_of(st.none(), st.none(), st.integers(0, 2**32 - 1)),
    st.binary(max_size=300),
    st.integers(1, 2**32 - 1),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.one_of(frame, st.binary(max_size=40)), max_size=6))
def test_any_byte_stream_ends_in_whole_answers(backend: Backend, parts: list[bytes]) -> None:
    answers, closed = serve(backend, b"".join(parts))
    assert closed
    assert all(status in iter(Status) for status, _, _ in answers)


def test_an_unknown_version_is_an_error_and_the_session_goes_on(backend: Backend) -> None:
    stream = encode_request(PacketType.METRIC_LIST, b"", 1, version=9) + encode_request(
        PacketType.METRIC_LIST, b"", 2
    )
    answers, _ = serve(backend, stream)
    assert [(s, r) for s, r, _ in answers] == [(Status.ERR, 1), (Status.OK, 2)]


def test_an_unknown_packet_type_is_an_error(backend: Backend) -> None:
    answers, _ = serve(backend, encode_request(0x99, b"abc", 5))
    assert [(s, r) for s, r, _ in answers] == [(Status.ERR, 5)]


def test_a_payload_that_does_not_decode_is_an_error(backend: Backend) -> None:
    answers, _ = serve(
        backend,
        encode_request(PacketType.USAGE_REALTIME, b"short", 6)
        + encode_request(PacketType.INGEST_SYNC, b"\x05\x00\x00\x00", 7),
    )
    assert [(s, r) for s, r, _ in answers] == [(Status.ERR, 6), (Status.ERR, 7)]


def test_a_server_push_sent_by_a_client_is_an_error(backend: Backend) -> None:
    answers, _ = serve(backend, encode_request(PacketType.ALERT_PUSH, b"", 8))
    assert [(s, r) for s, r, _ in answers] == [(Status.ERR, 8)]


def test_a_wrong_magic_is_answered_then_the_connection_closes(backend: Backend) -> None:
    bad = b"\x00" * 12 + (3).to_bytes(4, "little")
    answers, closed = serve(backend, bad + encode_request(PacketType.METRIC_LIST, b"", 4))
    assert [(s, r) for s, r, _ in answers] == [(Status.ERR, 3)] and closed


def test_an_oversized_payload_is_refused_unread(backend: Backend) -> None:
    head = struct.pack(
        "<IBBHII", MAGIC, 1, PacketType.INGEST_SYNC, 0xFFFF, LIMITS.max_payload + 1, 11
    )
    answers, closed = serve(backend, head + encode_request(PacketType.METRIC_LIST, b"", 12))
    assert [(s, r) for s, r, _ in answers] == [(Status.ERR, 11)] and closed


def test_a_truncated_frame_ends_the_session_without_an_answer(backend: Backend) -> None:
    frame_bytes = encode_request(PacketType.USAGE_REALTIME, b"\x00" * 72, 13)
    answers, closed = serve(backend, frame_bytes[:-10])
    assert answers == [] and closed


def test_a_frame_that_stops_arriving_is_dropped_after_the_frame_timeout(backend: Backend) -> None:
    async def run() -> Collected:
        reader = asyncio.StreamReader()
        reader.feed_data(encode_request(PacketType.USAGE_REALTIME, b"\x00" * 72, 14)[:30])
        writer = Collected()  # no end of file: the client just stopped sending
        limits = SessionLimits(idle_seconds=0.2, frame_seconds=0.2)
        await asyncio.wait_for(
            Session(backend, reader, writer, Peer(""), limits).run(), GUARD_SECONDS
        )
        return writer

    writer = asyncio.run(run())
    assert writer.closed and writer.data == b""
