"""CORS: which other origins' browser apps may call the API (CORS_ORIGINS; off when empty).

quart-cors answers preflights and adds the headers to whatever the app answers. The refusals
that edge middlewares send before the app runs (overload's 503, the body reader's 408/413,
the Host check's 400) never meet it: `Policy` gives those the same headers in the envelope,
so that a browser app on a listed origin can read them too (a 503's Retry-After included)
instead of seeing an opaque network error.
"""

from __future__ import annotations

from quart import Quart
from quart_cors import cors

from ..runtime.config import Settings

# What a browser app on another origin may send (conditional writes, safe retries, tracing)
# and read beyond the basic response headers (see the README's API section).
REQUEST_HEADERS = [
    "Content-Type",
    "Authorization",  # access tokens (AUTH=on)
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
    "Last-Event-ID",
]
RESPONSE_HEADERS = [
    "ETag",
    "Location",
    "Link",
    "X-Total-Count",
    "Retry-After",
    "X-Request-ID",
    "Idempotent-Replayed",
]
ALLOW_ORIGIN = b"access-control-allow-origin"


class Policy:
    """The origins CORS_ORIGINS lets in, for responses made outside the app."""

    def __init__(self, origins: tuple[str, ...]) -> None:
        self.any = "*" in origins
        self.origins = {o.encode() for o in origins}
        self.expose = (b"access-control-expose-headers", ", ".join(RESPONSE_HEADERS).encode())

    def headers(self, origin: bytes | None, response: list[tuple[bytes, bytes]]) -> None:
        """Add to `response`'s headers what quart-cors would have, unless the app's answer
        has them already or the request's `origin` is not let in."""
        if origin is None or any(name == ALLOW_ORIGIN for name, _ in response):
            return
        if self.any:
            response += [(ALLOW_ORIGIN, b"*"), self.expose]
        elif origin in self.origins:
            response += [(ALLOW_ORIGIN, origin), self.expose, (b"vary", b"Origin")]


def policy(settings: Settings) -> Policy | None:
    return Policy(settings.cors_origins) if settings.cors_origins else None


def init_app(app: Quart, settings: Settings) -> None:
    if not settings.cors_origins:
        return
    origins = settings.cors_origins
    cors(
        app,
        allow_origin="*" if "*" in origins else list(origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=REQUEST_HEADERS,
        expose_headers=RESPONSE_HEADERS,
        max_age=600,
    )
