"""Logging for `kaohe serve`: plain text or one JSON object a line (KAOHE_LOG_FORMAT=json, for log
collectors), each line with the context of the request it belongs to (message key, user id).

`request_context()` opens a context for one request (the middleware in bot/app.py does);
`bind(key=..., user=...)` adds to it from anywhere below, and every line logged in that request
and the request's own line carry it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("kaohe_log_context", default=None)

# Loggers that say at INFO what only a developer needs (Alembic's "setup plugin ...", "Context
# impl ...", "Will assume ..."): shown only with --log-level DEBUG.
QUIET_AT_INFO = ("alembic", "aiohttp.access")


@contextmanager
def request_context(**values: Any) -> Iterator[dict[str, Any]]:
    """A fresh context for one request (or job); yields the dict that `bind` fills."""
    context = dict(values)
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


def bind(**values: Any) -> None:
    """Add to the current request's context (no-op outside a request)."""
    context = _CONTEXT.get()
    if context is not None:
        context.update({k: v for k, v in values.items() if v is not None})


def current_context() -> dict[str, Any]:
    return dict(_CONTEXT.get() or {})


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.kaohe_context = {**current_context(), **getattr(record, "context", {})}
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = getattr(record, "kaohe_context", None) or {}
        if context:
            line += " " + " ".join(f"{k}={v}" for k, v in context.items())
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "kaohe_context", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Root logging for a server process (replaces handlers set before)."""
    numeric = getattr(logging, str(level).upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in QUIET_AT_INFO:
        logging.getLogger(name).setLevel(
            logging.DEBUG if numeric <= logging.DEBUG else logging.WARNING
        )
