"""X-Request-ID: echo a valid client id or make one; on every response and every log line."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from quart import Quart, Response, g, has_request_context, request

HEADER = "X-Request-ID"
# Echo only ids that are safe to put in headers and logs.
VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current() -> str:
    if has_request_context():
        return g.get("request_id", "-")
    return "-"


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


def init_app(app: Quart) -> None:
    @app.before_request
    async def assign() -> None:
        given = request.headers.get(HEADER, "")
        g.request_id = given if VALID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    async def echo(response: Response) -> Response:
        response.headers[HEADER] = current() if current() != "-" else uuid.uuid4().hex
        return response


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
