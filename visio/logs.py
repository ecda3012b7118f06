"""Visio's own log lines (the `visio` loggers): one line per HTTP request, plus what the app and its
background work report, each stamped with the request id when one is being answered.

VISIO_LOG_FORMAT=text (default) writes a readable line; `json` writes one JSON object a line, for
log collectors. Reflex and Granian keep their own output.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from visio.settings import settings

request_id: ContextVar[str | None] = ContextVar("visio_request_id", default=None)

# What a request line carries besides its message (LogRecord attributes, set through `extra`).
REQUEST_FIELDS = ("method", "path", "route", "status", "duration_ms")


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if record.request_id and " request_id=" not in line:  # type: ignore[attr-defined]
            line += f" request_id={record.request_id}"  # type: ignore[attr-defined]
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.request_id:  # type: ignore[attr-defined]
            entry["request_id"] = record.request_id  # type: ignore[attr-defined]
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure() -> None:
    """Send the `visio` loggers' INFO and above to stderr in the configured format (once).

    They still propagate: the root logger has no handler in the served app, and tests' log
    capture keeps working."""
    logger = logging.getLogger("visio")
    if any(getattr(h, "_visio", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._visio = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(_RequestId())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
