"""X-Request-ID: echo a valid client id or make one; on every response and every log line.

The id is given to a request by the outermost ASGI layer (edge/envelope.py, which puts it
on the response too) and kept in a context variable, so every log line of the request, in
whatever task, carries it."""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
# Echo only ids that are safe to put in headers and logs.
VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


_CURRENT: ContextVar[str] = ContextVar("request_id", default="-")


def current() -> str:
    """The id of the request being handled ("-" outside one)."""
    return _CURRENT.get()


def assign(headers: list[tuple[bytes, bytes]]) -> tuple[bytes, Any]:
    """The request's id (the client's X-Request-ID if valid, else a new one), made current;
    and the token that `end` takes."""
    given = next((v for k, v in headers if k == b"x-request-id"), b"").decode("latin-1")
    request_id = given if VALID.fullmatch(given) else os.urandom(16).hex()
    return request_id.encode(), _CURRENT.set(request_id)


def end(token: Any) -> None:
    _CURRENT.reset(token)


def _install_record_factory() -> None:
    """Stamp every log record with the current request's id when it is created (so every
    handler sees it, including pytest's), once per process."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "adds_request_id", False):
        return

    def make_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = current()
        return record

    make_record.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# LOG_FORMAT=json: one object per line, for log shippers.
JSON_FIELDS = ["levelname", "name", "request_id", "message"]
JSON_NAMES = {"levelname": "level", "name": "logger"}
# Records made before the record factory is installed (a server's own start-up lines).
DEFAULTS = {"request_id": "-"}


def formatter(log_format: str = "text") -> logging.Formatter:
    """The formatter of every todoapp log line (also named in servers' dictConfig)."""
    if log_format == "json":
        # timestamp: ISO 8601 in UTC, under "time".
        return JsonFormatter(
            JSON_FIELDS, rename_fields=JSON_NAMES, defaults=DEFAULTS, timestamp="time"
        )
    return logging.Formatter(TEXT_FORMAT, defaults=DEFAULTS)


class QuietClosedConnections(logging.Filter):
    """Drops granian's `ASGI transport error: "Closed(..)"`: a client (a closed tab) went
    away before its response was sent. That is normal traffic, not the operator's problem."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith('ASGI transport error: "Closed')


def configure_logging(level: str, log_format: str = "text") -> None:
    """Root logging with the request id on every line (handler added once per process,
    its format set on every call)."""
    _install_record_factory()
    root = logging.getLogger()
    root.setLevel(level)
    handler = next((h for h in root.handlers if getattr(h, "todoapp", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.todoapp = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(formatter(log_format))


def server_log_config(log_format: str) -> dict[str, Any]:
    """A dictConfig for an HTTP server's own loggers: our format, without the noise.
    Plain data (workers get it pickled), naming the factories above by import path."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"quiet": {"()": f"{__name__}.QuietClosedConnections"}},
        "formatters": {"todoapp": {"()": f"{__name__}.formatter", "log_format": log_format}},
        "handlers": {
            "todoapp": {
                "class": "logging.StreamHandler",
                "formatter": "todoapp",
                "filters": ["quiet"],
            }
        },
    }
