"""Security headers on every response, whoever made it: a route, an error handler, or an edge
middleware refusing the request before the app (408, 429, 503, ...).

- Content-Security-Policy suited to the response. A page brings its own and keeps it: the
  single-page app's (web.py) and /docs (docs.py) allow only their own scripts and styles.
  Everything else (JSON, problem+json, /metrics, /openapi.json) may load nothing and be
  framed by nobody: should a browser ever render one, no script can run in it.
- X-Content-Type-Options: nosniff (browsers must not guess types), Referrer-Policy:
  same-origin (no URL leaks to other sites), X-Frame-Options: DENY (frame-ancestors 'none'
  for browsers without CSP 2).
"""

from __future__ import annotations

from quart import Quart

from .asgitypes import ASGIApp, Message, Receive, Scope, Send

# For responses that bring no policy of their own.
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """ASGI middleware: adds each header the response does not set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", API_CSP))
                headers += [(k, v) for k, v in ALWAYS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def init_app(app: Quart) -> None:
    """Wrap the app (outside every middleware that may answer on its own)."""
    app.asgi_app = SecurityHeaders(app.asgi_app)  # type: ignore[method-assign]
