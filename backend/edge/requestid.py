"""X-Request-ID: echo a valid client id or make one; on every response and every log line."""

from __future__ import annotations

import logging
import re
import uuid

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


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(level: str) -> None:
    """Root logging with the request id on every line (handlers added once per process)."""
    _install_record_factory()
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "todoapp", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.todoapp = True  # type: ignore[attr-defined]
        root.addHandler(handler)
