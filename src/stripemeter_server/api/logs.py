"""Structured logs: one JSON object per line, and one line per HTTP request.

The request line carries the request id, tenant, route template, method, status and
duration — never the path's query, a header or a body, so no key, secret or password can
reach it. As a second guard every line (also other loggers' and exception text) passes
:func:`scrub`, which masks anything shaped like an API key, a Stripe secret, a webhook secret,
a portal token, a bearer token or a URL password. Logging is configured at the entry
points (``serve``, ``worker``), never at import time.

The request lines are written off the event loop (ADR 0961): the loop only builds the
record; a writer thread formats them and writes each batch with one ``write``
(``access_log.BatchedStreamHandler``). Every other line is written where it is logged.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from stripemeter_server.api.access_log import BatchedStreamHandler
from stripemeter_server.storage.engine import masked_url

ACCESS_LOGGER = "stripemeter.access"
_SECRETS = re.compile(
    r"(smk_[A-Za-z0-9_\-]{6,}|smp_[A-Za-z0-9_.\-]{6,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9_]+|"
    r"whsec_[A-Za-z0-9_+/=]+|"
    r"(?i:bearer)\s+\S+)"
)
_FIELDS = ("requestId", "tenant", "route", "method", "status", "durationMs")


def scrub(text: str) -> str:
    """``text`` with secrets masked (keys keep their first 8 characters, like the API's
    ``prefix``, so a line can still be matched to a key)."""
    if not _may_hold_secret(text):
        return text  # no pattern below can match (every request line's message, ADR 0975)

    def mask(match: re.Match[str]) -> str:
        found = match.group(0)
        if found.lower().startswith("bearer"):
            return "Bearer ***"
        return found[:8] + "***"

    return _SECRETS.sub(mask, masked_url(text))


def _may_hold_secret(text: str) -> bool:
    """False only when no masking pattern can match: every key or secret pattern holds a
    ``_``, a URL password an ``@`` (user info) or an ``=`` (query), and the rest is a bearer
    token. Checking these is a fraction of running the three expressions."""
    return "_" in text or "@" in text or "=" in text or "bearer" in text.lower()


def _timestamp(created: float) -> str:
    """``created`` as ``2026-01-02T03:04:05.678901Z`` (UTC), as ``strftime`` writes it; the
    part up to the second is formatted once per second (ADR 0975)."""
    moment = datetime.fromtimestamp(created, UTC)
    second = moment.replace(microsecond=0)
    global _last_second
    cached = _last_second
    if cached[0] != second:
        cached = _last_second = (second, second.strftime("%Y-%m-%dT%H:%M:%S."))
    return f"{cached[1]}{moment.microsecond:06d}Z"


_last_second: tuple[datetime | None, str] = (None, "")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=True, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{n}={getattr(record, n)}" for n in _FIELDS if hasattr(record, n))
        return scrub(f"{super().format(record)} {extra}".rstrip())


def log_config(fmt: str = "json", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process, uvicorn's loggers included (passed
    to ``uvicorn.run(log_config=...)`` so its worker processes use it too)."""
    formatter = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"()": TextFormatter, "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stderr",
    }
    # The request lines: the same formatter and stream, batched on a writer thread.
    access = {"()": BatchedStreamHandler, "formatter": "default", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler, "access": access},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            ACCESS_LOGGER: {"handlers": ["access"], "level": level, "propagate": False},
            "alembic": {"level": "WARNING"},
            # The stripe library logs two lines per call at INFO; a push pass would drown
            # the request log. Its warnings and errors still show.
            "stripe": {"level": "WARNING"},
        },
    }


def configure(fmt: str = "json") -> None:
    import logging.config

    logging.config.dictConfig(log_config(fmt))
    sys.stderr.flush()


def request_line(
    request_id: str, tenant: str | None, route: str, method: str, status: int, duration_s: float
) -> None:
    """The one log line of a request. The record is built here and handed to the
    logger's handlers as ``logger.info`` would, minus the caller's frame lookup, which
    no line shows (it was a few per cent of a fast read's CPU)."""
    logger = _ACCESS
    if not logger.isEnabledFor(logging.INFO):
        return
    fields = {
        "requestId": request_id,
        "tenant": tenant,
        "route": route,
        "method": method,
        "status": status,
        "durationMs": round(duration_s * 1000, 3),
    }
    record = logger.makeRecord(
        ACCESS_LOGGER, logging.INFO, "", 0, "%s %s %s", (method, route, status), None, extra=fields
    )
    logger.handle(record)


_ACCESS = logging.getLogger(ACCESS_LOGGER)
