"""Serves the single-page app from frontend/: the same index.html for every app path."""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, Quart, Response, send_from_directory
from quart_schema import hide

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"

bp = Blueprint("web", __name__)

# The app loads only its own scripts and styles: no inline script, no third-party origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


async def _index() -> Response:
    response = await send_from_directory(FRONTEND_DIR, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
@hide
async def index() -> Response:
    return await _index()


@bp.get("/lists/<int(max=9223372036854775807):list_id>")
@hide
async def list_page(list_id: int) -> Response:
    return await _index()


@bp.get("/static/<path:filename>")
@hide
async def static(filename: str) -> Response:
    response = await send_from_directory(FRONTEND_DIR, filename)
    # Revalidated on every use (ETag / Last-Modified from send_file): no stale app after a deploy.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_request
async def security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)

    @app.after_request
    async def nosniff(response: Response) -> Response:
        # Every response, API included: browsers must not guess content types.
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
