"""The import's line reader: bounded memory on an endless line, a refusal per bad line,
a BOM dropped, and every good line as it was."""

from __future__ import annotations

import io
import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.cli.line_reader import BOM, LineReader, RawLine, nesting_exceeds


class EndlessLine(io.RawIOBase):
    """``size`` bytes of one line with no newline, produced as they are read (never held)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        self.largest_read = max(self.largest_read, n)
        self.left -= n
        buffer[:n] = b"a" * n
        return n


def lines(data: bytes, **bounds: int) -> list[RawLine]:
    return list(LineReader(io.BytesIO(data), **bounds))


def test_an_endless_line_is_read_in_bounded_chunks_and_refused() -> None:
    source = EndlessLine(64 * 1024 * 1024)
    reader = LineReader(source, max_line_bytes=4096, chunk_bytes=8192)
    tracemalloc.start()
    found = list(reader)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [(r.number, r.text) for r in found] == [(1, None)]
    assert found[0].error is not None and "67108864 bytes" in found[0].error
    assert (source.left, source.largest_read) == (0, 8192) and reader.peak_buffer <= 4097
    assert peak < 1024 * 1024  # 64 MiB read, well under 1 MiB ever held


def test_the_line_after_a_long_one_is_read() -> None:
    found = lines(b"x" * 100 + b"\n{}\n", max_line_bytes=10, chunk_bytes=7)
    assert [(r.number, r.text) for r in found] == [(1, None), (2, "{}")]


def test_invalid_utf8_refuses_that_line_only() -> None:
    found = lines(b'{"a":1}\n{"b":"\xff"}\n{"c":3}\n')
    assert [(r.number, r.text is None) for r in found] == [(1, False), (2, True), (3, False)]
    assert found[1].error == "not valid UTF-8 (byte 7 of the line)"


def test_a_bom_at_the_start_is_dropped() -> None:
    assert lines(BOM + b'{"a":1}\r\n')[0].text == '{"a":1}'


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",))),
        max_size=20,
    ),
    st.integers(min_value=1, max_value=64),
)
def test_good_lines_come_out_as_they_went_in(texts: list[str], chunk: int) -> None:
    data = "".join(t + "\n" for t in texts).encode()
    found = lines(data, chunk_bytes=chunk)
    assert [r.text for r in found] == [
        t.removeprefix("\ufeff") if i == 0 else t for i, t in enumerate(texts)
    ]


def test_nesting_is_measured_outside_strings() -> None:
    assert nesting_exceeds("[" * 33 + "]" * 33, 32)
    assert not nesting_exceeds('{"a":"' + "[" * 100 + '"}', 32)
    assert not nesting_exceeds("[" * 32 + "]" * 32, 32)
