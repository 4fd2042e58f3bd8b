"""Lines of an import file, read in bounded chunks: memory stays bounded whatever the file.

A file is read ``CHUNK_BYTES`` at a time and split on ``\\n``; a line longer than
``MAX_LINE_BYTES`` is not kept (its bytes are skipped up to the next newline, however many)
and comes out as a refusal naming its length, so one endless line cannot grow memory. Each
line is decoded as strict UTF-8 (a bad byte refuses that line only, naming its offset), and
a UTF-8 byte order mark at the start of the file is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Final

MAX_LINE_BYTES: Final = 64 * 1024  # an event line is a few hundred bytes; meta is 4 KiB at most
CHUNK_BYTES: Final = 64 * 1024
BOM: Final = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class RawLine:
    """One line: its number, and its text or why it cannot be read."""

    number: int
    text: str | None
    error: str | None = None


class LineReader:
    """Iterates a binary stream's lines; ``peak_buffer`` is the most bytes it ever held for
    one line (at most ``max_line_bytes``, whatever the input)."""

    def __init__(self, stream: IO[bytes], *, max_line_bytes: int = MAX_LINE_BYTES,
                 chunk_bytes: int = CHUNK_BYTES) -> None:
        self._stream = stream
        self._max = max_line_bytes
        self._chunk = chunk_bytes
        self.peak_buffer = 0

    def __iter__(self) -> Iterator[RawLine]:
        pending = bytearray()
        overflow = 0  # the current line's length once it is over the bound (0: not over)
        number = 0
        while chunk := self._stream.read(self._chunk):
            start = 0
            while True:
                end = chunk.find(b"\n", start)
                piece = chunk[start:] if end < 0 else chunk[start:end]
                if overflow or len(pending) + len(piece) > self._max:
                    overflow += len(pending) + len(piece)
                    pending.clear()
                else:
                    pending += piece
                    self.peak_buffer = max(self.peak_buffer, len(pending))
                if end < 0:
                    break
                number += 1
                yield self._line(number, pending, overflow)
                pending.clear()
                overflow, start = 0, end + 1
        if pending or overflow:
            yield self._line(number + 1, pending, overflow)

    def _line(self, number: int, data: bytearray, overflow: int) -> RawLine:
        if overflow:
            return RawLine(number, None, f"the line is {overflow} bytes or more; at most "
                                         f"{self._max} allowed")
        raw = bytes(data[len(BOM):] if number == 1 and data.startswith(BOM) else data)
        try:
            return RawLine(number, raw.decode("utf-8").removesuffix("\r"))
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
