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


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current()
        return True


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
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
