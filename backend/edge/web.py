"""Serves the single-page app from frontend/: the same index.html for every app path."""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, Quart, Response, send_from_directory
from quart_schema import hide

FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend"

bp = Blueprint("web", __name__)

# The app loads only its own scripts and styles: no inline script, no third-party origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


# Set here rather than guessed from the OS (some systems map .js to text/plain, which a
# browser refuses for a module script under nosniff).
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}


async def send_static(folder: Path, filename: str) -> Response:
    """A file of folder with a media type we choose, revalidated on every use."""
    response = await send_from_directory(folder, filename)
    media_type = MEDIA_TYPES.get(Path(filename).suffix.lower())
    if media_type:
        response.headers["Content-Type"] = media_type
    # Revalidated on every use (ETag / Last-Modified, 304 when unchanged): no stale app
    # after a deploy, and no re-download when nothing changed.
    response.headers["Cache-Control"] = "no-cache"
    response.headers.pop("Expires", None)  # send_file's default would contradict no-cache
    return response


async def _send(filename: str) -> Response:
    return await send_static(FRONTEND_DIR, filename)


async def _index() -> Response:
    return await _send("index.html")


@bp.get("/")
@hide
async def index() -> Response:
    return await _index()


@bp.get("/lists/<id:list_id>")
@hide
async def list_page(list_id: int) -> Response:
    return await _index()


@bp.get("/static/<path:filename>")
@hide
async def static(filename: str) -> Response:
    return await _send(filename)


def protect(blueprint: Blueprint, csp: str) -> None:
    """The pages of blueprint may load only what csp allows, and leak no referrer."""

    @blueprint.after_request
    async def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = csp
        response.headers["Referrer-Policy"] = "same-origin"
        return response


protect(bp, CSP)


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)

    @app.after_request
    async def nosniff(response: Response) -> Response:
        # Every response, API included: browsers must not guess content types.
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
