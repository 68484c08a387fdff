"""Which host and scheme a request is for, and so which absolute URLs it gets back.

Every `url`, `Location` and `Link` is built from the request's Host header (and scheme), so
a Host the server does not own must not be reflected (cache poisoning, phishing links):

- ALLOWED_HOSTS: the host names the server answers for; any other Host is a 400 problem.
  By default the loopback names, HOST (when it is a name or an address, not 0.0.0.0) and
  PUBLIC_URL's host; `*` turns the check off. The probes and /metrics answer any Host (a
  load balancer or Kubernetes calls them by IP address) and build no URLs.
- PUBLIC_URL: behind a proxy, the origin clients use (https://todo.example.com); every
  absolute URL is then built from it, whatever Host or scheme reached the server.
- FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-For (the client's address, used by the
  per-address upload cap) and X-Forwarded-Proto are believed; nobody's by default.
"""

from __future__ import annotations

from quart import Quart

from ..runtime.config import Settings
from .asgitypes import ASGIApp, Receive, Scope, Send
from .overload import EXEMPT_PATHS
from .problems import Problem, send_problem

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})

DISALLOWED = Problem(400, "disallowed-host", "This server does not answer for that host name.")


def host_name(host: bytes) -> str:
    """The name part of a Host header: 'Example.com:8000' -> 'example.com', '[::1]:80' -> '::1'."""
    text = host.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The host names to answer for, or None for any (ALLOWED_HOSTS=*)."""
    if "*" in settings.allowed_hosts:
        return None
    if settings.allowed_hosts:
        return frozenset(h.lower() for h in settings.allowed_hosts)
    names = set(LOOPBACK_NAMES)
    if settings.host not in WILDCARD_BINDS:
        names.add(settings.host.lower().strip("[]"))
    if settings.public_url:
        names.add(host_name(settings.public_url.split("://", 1)[1].encode()))
    return frozenset(names)


class HostGuard:
    """ASGI middleware: refuses a Host outside the allowed names; with a public URL, makes
    it the request's scheme and Host, so the app builds every URL from it."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None, public_url: str) -> None:
        self.app = app
        self.allowed = allowed
        scheme, _, netloc = public_url.partition("://")
        self.public = (scheme, netloc.encode()) if public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.allowed is not None:
            host = next((v for k, v in scope["headers"] if k == b"host"), b"")
            if host_name(host) not in self.allowed:
                await send_problem(send, DISALLOWED)
                return
        if self.public is not None:
            scheme, netloc = self.public
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope = {**scope, "scheme": scheme, "headers": [(b"host", netloc), *headers]}
        await self.app(scope, receive, send)


def init_app(app: Quart, settings: Settings) -> None:
    """Wrap the app: the Host check inside, the trusted proxies' headers around it (so the
    check and the URLs see the host and scheme the client used)."""
    allowed = allowed_hosts(settings)
    if allowed is not None or settings.public_url:
        guard = HostGuard(app.asgi_app, allowed, settings.public_url)
        app.asgi_app = guard  # type: ignore[method-assign]
    if settings.forwarded_allow_ips:
        # granian's own implementation (the rightmost untrusted X-Forwarded-For address,
        # CIDR ranges, '*'), the same whichever server runs the app.
        from granian.utils.proxies import wrap_asgi_with_proxy_headers

        app.asgi_app = wrap_asgi_with_proxy_headers(  # type: ignore[method-assign]
            app.asgi_app, list(settings.forwarded_allow_ips)
        )
