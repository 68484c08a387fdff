"""The outermost ASGI layer: every response leaves through it, whoever made it (a route, an
error handler, or an edge middleware refusing the request before the app: 400, 408, 413,
429, 503). On its way out a response gets

- the request's id (requestid.py: the client's valid X-Request-ID, or a new one), which
  every log line of the request carries too;
- the security headers it does not set itself (security.py);
- CORS headers, for a listed origin, on the refusals made before the app (cors.py);

and it is counted and timed for /metrics (metrics.py), its refusals included.

One layer and one wrapped `send` for the three, not one each: every layer is paid on every
request.
"""

from __future__ import annotations

import time

from quart import Quart

from . import requestid, security
from .asgitypes import ASGIApp, Message, Receive, Scope, Send
from .cors import Policy
from .metrics import CLIENT_GONE, Recorder


class Envelope:
    def __init__(self, app: ASGIApp, cors: Policy | None) -> None:
        self.app = app
        self.cors = cors
        self.recorder = Recorder()
        self.in_flight = self.recorder.metrics.in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, token = requestid.assign(scope["headers"])
        status: int | None = None  # until a response starts
        cors = self.cors
        origin = None if cors is None else _origin(scope["headers"])

        async def send_enveloped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id))
                security.add_headers(headers)
                if cors is not None:
                    cors.headers(origin, headers)
                message = {**message, "headers": headers}
            await send(message)

        start = time.perf_counter()
        self.in_flight.inc()
        try:
            await self.app(scope, receive, send_enveloped)
            # Quart answers every request, errors included, unless the client hung up: it
            # then cancels the handler and returns without a response.
            status = status or CLIENT_GONE
        finally:
            self.in_flight.dec()
            # status None: the app raised before starting a response
            self.recorder.record(scope, status or 500, time.perf_counter() - start)
            requestid.end(token)


def _origin(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    return next((value for name, value in headers if name == b"origin"), None)


def init_app(app: Quart, cors: Policy | None) -> None:
    """Wrap the app, outside every middleware that may answer on its own."""
    app.asgi_app = Envelope(app.asgi_app, cors)  # type: ignore[method-assign]
