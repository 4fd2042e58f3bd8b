"""Reading and writing event files: JSON Lines and CSV, streamed (never all in memory): a
file is read in bounded chunks and each line refused alone when it cannot be read."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from stripemeter_server.cli.line_reader import LineReader, RawLine, nesting_exceeds
from stripemeter_server.domain import json_text
from stripemeter_server.domain.csv_cells import restored_cell, safe_cell
from stripemeter_server.domain.errors import NotFoundError, ValidationError

# What an imported row may carry; anything else (an export's receivedAt, voided, …) is
# ignored, so an exported file imports again as it is.
MAX_NESTING = 32  # arrays and objects in one line (meta is small and flat in practice)
IMPORT_FIELDS = ("metric", "customerRef", "quantity", "ts", "resourceId", "meta", "idempotencyKey")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the input: its number, and the event or why it could not be read."""

    line: int
    event: dict[str, Any] | None
    error: str | None = None


def detect_format(name: str, requested: str) -> str:
    if requested != "auto":
        return requested
    return "csv" if name.lower().endswith(".csv") else "jsonl"


def read_rows(stream: IO[bytes], fmt: str) -> Iterator[Row]:
    """The rows of a binary stream, read in bounded chunks (``line_reader.py``): a line
    that is too long, not UTF-8 or nested too deep is refused alone, with its reason."""
    lines = LineReader(stream)
    return _csv_rows(lines) if fmt == "csv" else _jsonl_rows(lines)


def _parse_json(text: str, what: str) -> tuple[Any, str | None]:
    if nesting_exceeds(text, MAX_NESTING):
        return None, f"{what} nests arrays and objects more than {MAX_NESTING} deep"
    try:
        return json.loads(text, parse_float=Decimal), None
    except (ValueError, RecursionError) as exc:
        return None, f"{what} is not valid JSON: {exc}"


def _jsonl_rows(lines: Iterable[RawLine]) -> Iterator[Row]:
    for line in lines:
        if line.text is None:
            yield Row(line.number, None, line.error)
            continue
        if not line.text.strip():
            continue
        data, error = _parse_json(line.text, "the line")
        if error is not None:
            yield Row(line.number, None, error)
        elif not isinstance(data, dict):
            yield Row(line.number, None, "each line must be a JSON object")
        else:
            yield Row(line.number, {k: data[k] for k in IMPORT_FIELDS if data.get(k) is not None})


class _CsvFeed:
    """The readable lines for ``csv``; the refused ones kept aside, to be reported in order."""

    def __init__(self, lines: Iterable[RawLine]) -> None:
        self._lines = iter(lines)
        self.refused: list[Row] = []
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.number = line.number
            if line.text is None:
                self.refused.append(Row(line.number, None, line.error))
            else:
                yield line.text + "\n"

    def take_refused(self) -> list[Row]:
        refused, self.refused = self.refused, []
        return refused


def _csv_rows(lines: Iterable[RawLine]) -> Iterator[Row]:
    feed = _CsvFeed(lines)
    reader = csv.DictReader(feed)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a quoted field past the csv module's size bound
            yield from feed.take_refused()
            yield Row(feed.number, None, f"not valid CSV: {exc}")
            continue
        yield from feed.take_refused()
        yield _csv_event(feed.number, record)
    yield from feed.take_refused()


def _csv_event(number: int, record: dict[str | Any, str | Any]) -> Row:
    event: dict[str, Any] = {
        k: restored_cell(v)
        for k, v in record.items()
        if k in IMPORT_FIELDS and isinstance(v, str) and v
    }
    if "meta" in event:
        event["meta"], error = _parse_json(event["meta"], "meta")
        if error is not None:
            return Row(number, None, error)
    return Row(number, event)


def write_rows(
    out: IO[str], rows: Iterable[dict[str, Any]], fmt: str, columns: Sequence[str]
) -> int:
    """Write rows as JSON Lines (exact decimals) or CSV (``meta`` as JSON text, every cell
    spreadsheet-safe: ``domain/csv_cells.py``)."""
    written = 0
    writer = (
        csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        if fmt == "csv"
        else None
    )
    if writer is not None:
        writer.writeheader()
    for row in rows:
        if writer is None:
            out.write(json_text.dumps(row) + "\n")
        else:
            writer.writerow({k: safe_cell(_cell(v)) for k, v in row.items()})
        written += 1
    return written


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json_text.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def binary_input(path: str) -> IO[bytes]:
    """The import's input, as bytes (decoded line by line, so a bad byte costs one line).
    A missing file or a directory is an operator error: one line, no traceback."""
    import sys

    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # the caller closes it
    except FileNotFoundError:
        raise NotFoundError(f"cannot read {path}: no such file", code="file_not_found") from None
    except IsADirectoryError:
        raise ValidationError(f"cannot read {path}: it is a directory", code="not_a_file") from None
    except PermissionError:
        raise ValidationError(
            f"cannot read {path}: permission denied", code="not_readable"
        ) from None
