"""todoapp: an async todo JSON API and single-page app."""

from __future__ import annotations

from quart import Quart
from quart_cors import cors
from quart_schema import Info, QuartSchema

from . import api, live
from .api.openapi import OpenAPI
from .data import db
from .edge import docs, health, metrics, overload, problems, requestid, web
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

    QuartSchema(
        app,
        info=Info(title="todoapp", version="1", description=API_DESCRIPTION),
        openapi_provider_class=OpenAPI,
        openapi_path=docs.OPENAPI_PATH,
        # /docs is ours (edge/docs.py): quart-schema's pages load their scripts from a CDN.
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
    )
    app.json = OrjsonProvider(app)  # after QuartSchema, which installs its own provider

    requestid.init_app(app)
    db.init_app(app, settings)
    live.init_app(app, settings)
    problems.init_app(app)
    api.init_app(app)
    health.init_app(app)
    web.init_app(app)
    docs.init_app(app)
    # Backpressure, then metrics around it (so its 503s are counted): ASGI middlewares.
    overload.init_app(app, settings)
    metrics.init_app(app)
    live.hand_off_streams(app)  # outermost: a stream's body runs after its request

    if settings.cors_origins:
        cors(
            app,
            allow_origin="*" if "*" in settings.cors_origins else list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "Last-Event-ID"],
            expose_headers=["Location", "ETag", "Link", "X-Total-Count", "X-Request-ID"],
            max_age=600,
        )
    return app
