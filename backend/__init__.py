"""todoapp: an async todo JSON API and single-page app."""

from __future__ import annotations

from functools import partial
from typing import Any

from quart import Quart, Response
from quart_schema import Info, QuartSchema

from . import api, live
from .api.openapi import OpenAPI
from .data import db
from .edge import (
    auth,
    bodies,
    cors,
    docs,
    envelope,
    health,
    hosts,
    metrics,
    overload,
    problems,
    requestid,
    web,
)
from .edge.jsonio import OrjsonProvider
from .runtime.config import Settings

MAX_BODY_BYTES = 1024 * 1024
API_DESCRIPTION = (
    "Todo lists and todos. Errors are `application/problem+json` (RFC 9457). Every item has a "
    "`version`, sent as its ETag: `If-Match` makes a write conditional (412 if it changed), "
    "`If-None-Match` a read (304). `POST` takes an `Idempotency-Key`. Pages are keyset pages: "
    'the next one is in the `Link: <...>; rel="next"` header.'
)


def create_app(settings: Settings | None = None) -> Quart:
    settings = settings or Settings.from_env()
    requestid.configure_logging(settings.log_level, settings.log_format)
    app = Quart(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, PROVIDE_AUTOMATIC_OPTIONS=True)
    app.extensions["settings"] = settings

    _openapi(app, settings)
    app.json = OrjsonProvider(app)  # after QuartSchema, which installs its own provider
    _responses_as_they_are(app)

    auth.init_app(app, settings)  # before overload: the deadline covers the look-up too
    db.init_app(app, settings)
    live.init_app(app, settings)
    problems.init_app(app)
    api.init_app(app, accounts=settings.accounts)
    health.init_app(app)
    web.init_app(app)
    docs.init_app(app)
    metrics.init_app(app)
    # ASGI middlewares, innermost first: the in-flight cap, the body reader around it (a
    # request counts as in flight once its body has arrived), the Host check and trusted
    # proxies' headers around that (so a wrong Host costs no body read, and the per-address
    # cap sees the client's address), and the envelope around all: request id, security
    # headers and metrics on whatever any of them answers.
    overload.init_app(app, settings)
    bodies.init_app(app, settings)
    hosts.init_app(app, settings)
    envelope.init_app(app, cors.policy(settings))
    # Outermost: an event stream's body runs on after its request has ended (live/handoff.py).
    live.hand_off_streams(app)

    cors.init_app(app, settings)
    return app


def _openapi(app: Quart, settings: Settings) -> None:
    # With accounts, the API takes an access token (bearer) or the session cookie.
    credentials = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "session": {"type": "apiKey", "in_": "cookie", "name": auth.COOKIE},
    }
    QuartSchema(
        app,
        info=Info(title="todoapp", version="1", description=API_DESCRIPTION),
        openapi_provider_class=OpenAPI,
        openapi_path=docs.OPENAPI_PATH,
        # /docs is ours (edge/docs.py): quart-schema's pages load their scripts from a CDN.
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
        security_schemes=credentials if settings.accounts else None,
        security=[{"bearer": []}, {"session": []}] if settings.accounts else None,
    )


def _responses_as_they_are(app: Quart) -> None:
    """quart-schema wraps make_response to turn pydantic models and dataclasses returned by
    views into JSON. Our views return finished Responses, which it would only inspect (a
    model_dump attempt and five config look-ups per request): those go straight to Quart's."""
    converting = app.make_response  # quart-schema's wrapper
    plain = partial(Quart.make_response, app)

    async def make_response(result: Any) -> Any:
        if isinstance(result, Response):
            return await plain(result)
        return await converting(result)

    app.make_response = make_response  # type: ignore[method-assign]
