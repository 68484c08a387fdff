"""Serves the single-page app from frontend/: the same index.html for every app path, and
a page a person can read for a path that is nothing (API clients still get problem+json)."""

from __future__ import annotations

from pathlib import Path

from quart import Blueprint, Quart, Response, request, send_from_directory
from quart_schema import hide
from werkzeug.exceptions import NotFound

from .problems import http_problem

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


# The app's places (js/router.js): one page, which reads its path.
@bp.get("/")
@bp.get("/lists/<id:list_id>")
@bp.get("/today")
@bp.get("/upcoming")
@bp.get("/search")
@hide
async def index(list_id: int | None = None) -> Response:
    return await _send("index.html")


@bp.get("/static/<path:filename>")
@hide
async def static(filename: str) -> Response:
    return await _send(filename)


def strict(response: Response, csp: str) -> Response:
    """The page may load only what csp allows, and leaks no referrer."""
    response.headers["Content-Security-Policy"] = csp
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def protect(blueprint: Blueprint, csp: str) -> None:
    """Every page of blueprint is strict(csp)."""

    @blueprint.after_request
    async def security_headers(response: Response) -> Response:
        return strict(response, csp)


protect(bp, CSP)


def _wants_a_page() -> bool:
    """A browser navigating (it prefers HTML to JSON), outside the API: API clients, curl
    (`*/*`) and scripts keep getting problem+json."""
    if request.path.startswith("/api/"):
        return False
    accepted = request.accept_mimetypes
    return accepted.best_match(["application/json", "text/html"]) == "text/html"


# Read once: an error page must not depend on the disk answering.
NOT_FOUND_PAGE = (FRONTEND_DIR / "404.html").read_bytes()


async def not_found(error: NotFound) -> Response:
    if not _wants_a_page():
        return http_problem(error)
    response = Response(NOT_FOUND_PAGE, status=404, content_type=MEDIA_TYPES[".html"])
    response.headers["Cache-Control"] = "no-cache"
    return strict(response, CSP)


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
    # More specific than the HTTPException handler of edge/problems.py, so it wins for 404.
    app.register_error_handler(NotFound, not_found)
