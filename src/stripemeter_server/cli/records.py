"""Reading and writing event files: JSON Lines and CSV, streamed (never all in memory)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from stripemeter_server.domain import exact_json

# What an imported row may carry; anything else (an export's receivedAt, voided, …) is
# ignored, so an exported file imports again as it is.
IMPORT_FIELDS = ("metric", "customerRef", "quantity", "ts", "resourceId", "meta",
                 "idempotencyKey")


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


def read_rows(stream: IO[str], fmt: str) -> Iterator[Row]:
    return _csv_rows(stream) if fmt == "csv" else _jsonl_rows(stream)


def _jsonl_rows(stream: IO[str]) -> Iterator[Row]:
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            yield Row(number, None, f"not valid JSON: {exc}")
            continue
        if not isinstance(data, dict):
            yield Row(number, None, "each line must be a JSON object")
            continue
        yield Row(number, {k: data[k] for k in IMPORT_FIELDS if data.get(k) is not None})


def _csv_rows(stream: IO[str]) -> Iterator[Row]:
    reader = csv.DictReader(stream)
    for record in reader:
        number = reader.line_num
        event: dict[str, Any] = {k: v for k, v in record.items()
                                 if k in IMPORT_FIELDS and v not in (None, "")}
        if "meta" in event:
            try:
                event["meta"] = json.loads(event["meta"], parse_float=Decimal)
            except ValueError as exc:
                yield Row(number, None, f"meta is not valid JSON: {exc}")
                continue
        yield Row(number, event)


def write_rows(out: IO[str], rows: Iterable[dict[str, Any]], fmt: str,
               columns: Sequence[str]) -> int:
    """Write rows as JSON Lines (exact decimals) or CSV (``meta`` as JSON text)."""
    written = 0
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore") \
        if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in rows:
        if writer is None:
            out.write(exact_json.dumps(row) + "\n")
        else:
            writer.writerow({k: _cell(v) for k, v in row.items()})
        written += 1
    return written


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return exact_json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def text_input(path: str) -> IO[str]:
    import sys

    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")
