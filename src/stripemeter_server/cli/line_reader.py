"""Lines of an import file, read in bounded chunks: memory stays bounded whatever the file.

A line is read with a bounded ``readline`` (at most ``MAX_LINE_BYTES`` + 1 bytes); a
longer line is not kept (its bytes are skipped, a chunk at a time, up to the next newline,
however many) and comes out as a refusal naming its length, so one endless line cannot grow
memory. Each line is decoded as strict UTF-8 (a bad byte refuses that line only, naming its
offset), and a UTF-8 byte order mark at the start of the file is dropped.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Final, NamedTuple

MAX_LINE_BYTES: Final = 64 * 1024  # an event line is a few hundred bytes; meta is 4 KiB at most
CHUNK_BYTES: Final = 64 * 1024
BOM: Final = b"\xef\xbb\xbf"


class RawLine(NamedTuple):
    """One line: its number, and its text or why it cannot be read (a tuple: one is made per
    line of the file, so it is made as cheaply as Python can)."""

    number: int
    text: str | None
    error: str | None = None


class LineReader:
    """Iterates a binary stream's lines; ``peak_buffer`` is the most bytes it ever held for
    one line (at most ``max_line_bytes`` + 1, whatever the input)."""

    def __init__(
        self,
        stream: IO[bytes],
        *,
        max_line_bytes: int = MAX_LINE_BYTES,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        # ``readline(limit)`` of a buffered stream stops at ``limit`` bytes (in C, fast):
        # a raw stream gets a buffer of ``chunk_bytes`` first.
        self._stream: IO[bytes] = (
            io.BufferedReader(stream, buffer_size=chunk_bytes)
            if isinstance(stream, io.RawIOBase)
            else stream
        )
        self._max = max_line_bytes
        self._chunk = chunk_bytes
        self.peak_buffer = 0

    def __iter__(self) -> Iterator[RawLine]:
        number = 0
        while data := self._stream.readline(self._max + 1):
            number += 1
            if len(data) > self.peak_buffer:
                self.peak_buffer = len(data)
            if len(data) > self._max and not data.endswith(b"\n"):
                yield RawLine(
                    number,
                    None,
                    f"the line is {self._skip_rest(len(data))} bytes "
                    f"or more; at most {self._max} allowed",
                )
            else:
                yield self._decoded(number, data)

    def _skip_rest(self, seen: int) -> int:
        """Read past the rest of an over-long line, a chunk at a time, keeping none of it."""
        while more := self._stream.readline(self._chunk):
            seen += len(more)
            if more.endswith(b"\n"):
                return seen - 1
        return seen

    @staticmethod
    def _decoded(number: int, data: bytes) -> RawLine:
        text = data.removesuffix(b"\n").removesuffix(b"\r")
        if number == 1:
            text = text.removeprefix(BOM)
        try:
            return RawLine(number, text.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return RawLine(number, None, f"not valid UTF-8 (byte {exc.start + 1} of the line)")


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether JSON ``text`` nests arrays and objects deeper than ``limit`` (brackets inside
    strings do not count). Most lines have too few brackets to need the scan at all."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False
