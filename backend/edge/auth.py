"""Who is asking, for every request: the auth layer in front of the API.

- AUTH=off: every request acts as the implicit user (``actor.IMPLICIT``), as before accounts.
- AUTH=on: ``Authorization: Bearer <token>`` (a personal access token) or the session cookie
  names the user. Anything under /api except /api/auth/* without either gets 401
  problem+json with ``WWW-Authenticate: Bearer``.
- Cookies ride along with cross-site requests, so an unsafe request (POST, PATCH, PUT,
  DELETE) authenticated by the cookie must come from one of our own pages: its ``Origin``
  (or, missing that, ``Referer``) must be this server's origin or a ``CORS_ORIGINS`` entry,
  else 403. Sign-in and sign-up get the same check when a browser sends those headers
  (login CSRF). A bearer token is never sent by a browser on its own: no check.
- /metrics: the bearer ``METRICS_TOKEN`` when set, else loopback clients only.

Look-ups of a credential are cached in the process for ``CACHE_TTL`` seconds. Logout,
revocation, password change and account deletion drop the entries of this process at once;
other worker processes notice within the TTL (1 s), when their entry expires and the next
look-up finds the row gone.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from quart import Quart, Response, current_app, g, request

from ..data import credentials, db
from ..domain.actor import IMPLICIT, NOBODY, Actor
from ..runtime.config import Settings
from .problems import Problem

COOKIE = "todoapp_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_API = "/api/auth/"  # sign-up, sign-in, sign-out: reachable without credentials
CACHE_TTL = 1.0  # seconds a credential look-up is reused; revocation shows within this
CACHE_MAX = 10_000  # entries; beyond it the cache starts over (no unbounded growth)


# The two kinds of credential, and how each is looked up.
LOOKUPS = {"token": credentials.token_user, "session": credentials.session_user}
Key = tuple[str, bytes]  # (kind, SHA-256 of the secret)


class CredentialCache:
    """secret hash -> (user id, expiry on the monotonic clock), for CACHE_TTL seconds; and
    the look-ups on their way, so that a burst of requests with one credential (a page load,
    a script's fan-out) waits for one look-up instead of each taking a connection for its own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.entries: dict[Key, tuple[int, float]] = {}
        self.pending: dict[Key, asyncio.Future[int | None]] = {}

    def get(self, key: Key) -> int | None:
        entry = self.entries.get(key)
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def put(self, key: Key, user_id: int) -> None:
        if len(self.entries) >= CACHE_MAX:
            self.entries.clear()
        self.entries[key] = (user_id, self.clock() + CACHE_TTL)

    def drop(self, key: Key) -> None:
        self.entries.pop(key, None)

    def drop_user(self, user_id: int) -> None:
        for key in [k for k, (uid, _) in self.entries.items() if uid == user_id]:
            del self.entries[key]


def cache() -> CredentialCache:
    return current_app.extensions["credential_cache"]


def unauthorized(detail: str = "Sign in, or send an access token as a bearer token.") -> Problem:
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def own_origin() -> str:
    """This server's origin as the browser sees it (scheme://host[:port]), for the CSRF
    check: PUBLIC_URL's when set (edge/hosts.py puts it in the request's scheme and Host),
    else the request's own, after trusted proxies' X-Forwarded-Proto."""
    return f"{request.scheme}://{request.host}".lower()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def user_of(kind: str, digest: bytes) -> int | None:
    """The user of a credential (None: not valid), through the cache. Also for an event
    stream that checks, after its request, that its credential still holds."""
    # Cached per kind: a token's secret sent as a session cookie (or the other way round)
    # must not ride on the other's cached look-up.
    key = (kind, digest)
    known = cache()
    user_id = known.get(key)
    if user_id is not None:
        return user_id
    pending = known.pending.get(key)
    if pending is not None:  # someone is looking it up: their answer is ours
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            if not pending.cancelled():
                raise  # this request was cancelled
            # that request was (its client went away): look it up here instead
    future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
    known.pending[key] = future
    try:
        async with db.statement(NOBODY) as work:
            user_id = await LOOKUPS[kind](work, digest)
    except Exception as error:
        future.set_exception(error)
        future.exception()  # retrieved: no warning when nobody else waited
        raise
    except BaseException:
        future.cancel()
        raise
    finally:
        known.pending.pop(key, None)
    if user_id is not None:
        known.put(key, user_id)
    future.set_result(user_id)
    return user_id


def _check_origin(settings: Settings, *, required: bool) -> None:
    """CSRF: the request must come from our own pages (or a CORS_ORIGINS origin)."""
    origin = request.headers.get("Origin")
    if origin is None and (referer := request.headers.get("Referer")):
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin is None or origin == "null":
        if not required:
            return
        raise Problem(403, "csrf", "This request must come from this app's own pages.")
    allowed = {own_origin(), *(o.lower() for o in settings.cors_origins if o != "*")}
    if origin.lower() not in allowed:
        raise Problem(403, "csrf", "Requests from other sites are not allowed.")


async def authenticate(settings: Settings) -> None:
    """Set g.actor (and g.session for the cookie's session; g.credential, the credential
    that named the actor: (kind, hash)) for a request under /api."""
    path = request.path
    if not settings.accounts:
        g.actor = IMPLICIT
        return
    g.actor, g.session, g.credential = None, None, None
    if request.method == "OPTIONS":
        return  # CORS preflights carry no credentials; the answer touches no data
    token = _bearer()
    if token is not None:
        digest = credentials.digest(token)
        user_id = await user_of("token", digest)
        if user_id is None:
            raise unauthorized("This access token is not valid (revoked, or mistyped).")
        g.actor, g.credential = Actor(user_id), ("token", digest)
        return
    secret = request.cookies.get(COOKIE)
    unsafe = request.method in UNSAFE
    if secret and unsafe:
        _check_origin(settings, required=True)
    elif unsafe and path.startswith(PUBLIC_API):
        _check_origin(settings, required=False)
    if secret:
        digest = credentials.digest(secret)
        user_id = await user_of("session", digest)
        if user_id is not None:
            g.actor, g.session, g.credential = Actor(user_id), digest, ("session", digest)
    if g.actor is None and not path.startswith(PUBLIC_API):
        raise unauthorized()


def _guard_metrics(settings: Settings) -> None:
    if settings.metrics_token:
        given = _bearer() or ""
        if not hmac.compare_digest(given.encode(), settings.metrics_token.encode()):
            raise unauthorized("/metrics needs the METRICS_TOKEN as a bearer token.")
        return
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise Problem(
            403, "forbidden", "/metrics is served to this machine only (or set METRICS_TOKEN)."
        )


def set_session_cookie(response: Response, secret: str) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Lax (not sent with
    cross-site subrequests), Secure over HTTPS or with COOKIE_SECURE=1, for the whole site,
    kept by the browser as long as the session's idle limit."""
    settings: Settings = current_app.extensions["settings"]
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(credentials.SESSION_IDLE.total_seconds()),
        path="/",
        secure=settings.cookie_secure or request.scheme == "https",
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax")


def init_app(app: Quart, settings: Settings) -> None:
    """Authenticate every request under /api (and guard /metrics) as the first step of its
    dispatch. Call before overload.init_app: its deadline then covers the credential
    look-up too, and probes (/healthz, /readyz) never wait for the database here."""
    app.extensions["credential_cache"] = CredentialCache()
    dispatch = app.dispatch_request

    async def dispatch_request(request_context: Any = None) -> Any:
        path = request.path
        if path.startswith("/api/"):
            await authenticate(settings)
        elif path == "/metrics":
            _guard_metrics(settings)
        return await dispatch(request_context)

    # Like overload.py: an instance attribute wraps every view, no before_request hook.
    app.dispatch_request = dispatch_request  # type: ignore[method-assign]
