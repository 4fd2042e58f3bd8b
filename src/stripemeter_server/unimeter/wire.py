"""Unimeter's frame format: the request and response headers, packet types and statuses.

Pure and bounded: a header is parsed from exactly its 16 bytes, and a declared payload
longer than the configured cap is refused before a byte of it is read, so no frame can make
the server allocate more than the cap or wait for data it will never use. Every integer on
the wire is little-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

MAGIC: Final = 0xC0FFEE01
VERSION: Final = 1
REQUEST_HEADER_SIZE: Final = 16
RESPONSE_HEADER_SIZE: Final = 12
# The largest payload a request may declare (an ingest frame of about 40 000 events).
DEFAULT_MAX_PAYLOAD: Final = 4 * 1024 * 1024
BROADCAST_REQUEST_ID: Final = 0  # a server push: the status byte carries the packet type

_REQUEST = struct.Struct("<IBBHII")  # magic, version, packet type, partition, length, id
_RESPONSE = struct.Struct("<B3xII")  # status, padding, request id, payload length


class PacketType(IntEnum):
    INGEST_ASYNC = 0x00
    INGEST_SYNC = 0x01
    GET_PARTITION_MAP = 0x10
    PARTITION_MAP_UPDATE = 0x11
    METRIC_PUT = 0x20
    METRIC_DELETE = 0x21
    METRIC_LIST = 0x22
    USAGE_QUERY = 0x30
    USAGE_REALTIME = 0x31
    EVENTS_LIST = 0x32
    ALERTS_LIST = 0x33
    ALERT_PUSH_ENABLE = 0x34
    ALERT_PUSH = 0x35
    USAGE_QUERY_BREAKDOWN = 0x36
    CLUSTER_STATUS = 0x40
    CLUSTER_REBALANCE = 0x41


KNOWN_PACKETS: Final = frozenset(int(p) for p in PacketType)


class Status(IntEnum):
    OK = 0
    DUPLICATE = 1
    ERR = 2
    UNKNOWN_METRIC = 3
    REDIRECT = 4
    NOT_LEADER = 5
    BACKPRESSURE = 6


@dataclass(frozen=True, slots=True)
class RequestHeader:
    version: int
    packet_type: int
    partition: int
    payload_len: int
    request_id: int


@dataclass(frozen=True, slots=True)
class FrameRefused:
    """A header the server cannot go on from: the stream is out of step (wrong magic) or
    the payload is over the cap. It is answered with ``ERR`` and the connection closed."""

    request_id: int
    reason: str


def parse_request_header(
    data: bytes, max_payload: int = DEFAULT_MAX_PAYLOAD
) -> RequestHeader | FrameRefused:
    """The header in ``data`` (exactly 16 bytes), or why the connection must end."""
    if len(data) != REQUEST_HEADER_SIZE:
        return FrameRefused(0, f"a request header is {REQUEST_HEADER_SIZE} bytes")
    magic, version, packet_type, partition, length, request_id = _REQUEST.unpack(data)
    if magic != MAGIC:
        return FrameRefused(request_id, f"bad magic 0x{magic:08x}")
    if length > max_payload:
        return FrameRefused(request_id, f"payload of {length} bytes; at most {max_payload}")
    return RequestHeader(version, packet_type, partition, length, request_id)


def encode_request(
    packet_type: int,
    payload: bytes,
    request_id: int,
    partition: int = 0xFFFF,
    version: int = VERSION,
) -> bytes:
    """A whole request frame (tests and tools speak to the server with it)."""
    return _REQUEST.pack(MAGIC, version, packet_type, partition, len(payload), request_id) + payload


def encode_response(status: int, request_id: int, payload: bytes = b"") -> bytes:
    """A whole response frame; for a broadcast, ``status`` is the pushed packet type."""
    return _RESPONSE.pack(status, request_id, len(payload)) + payload


def parse_response_header(data: bytes) -> tuple[int, int, int]:
    """(status, request id, payload length) of a 12-byte response header."""
    status, request_id, length = _RESPONSE.unpack(data)
    return int(status), int(request_id), int(length)
