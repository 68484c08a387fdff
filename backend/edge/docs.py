"""/docs: Swagger UI for /openapi.json, served entirely by the app (no CDN, works offline).

The assets come from the pinned PyPI package swagger-ui-py (Swagger UI 5, which reads the
OpenAPI 3.1 document quart-schema produces). The page and its start-up script are ours, so
the page can run under a strict Content-Security-Policy: no inline script, no other origin.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from quart import Blueprint, Quart, Response
from quart_schema import hide
from werkzeug.exceptions import NotFound

from .web import protect, send_static

OPENAPI_PATH = "/openapi.json"


def _assets_dir() -> Path:
    # Located without importing swagger_ui: its __init__ pulls in YAML and every framework
    # handler, and we only want its static folder.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing: pip install todoapp")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


ASSETS_DIR = _assets_dir()
# The only files the page loads; anything else under /docs/assets/ is a 404.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>todoapp API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"""

# validatorUrl: null, or Swagger UI fetches a badge from a third-party validator.
INIT_JS = f"""window.ui = SwaggerUIBundle({{
  url: "{OPENAPI_PATH}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
}});
"""

# Swagger UI needs data: images (its icons) and fetch to this origin ("Try it out"); its
# React code sets styles through the DOM, which style-src 'self' allows.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)

bp = Blueprint("docs", __name__, url_prefix="/docs")


@bp.get("")
@hide
async def page() -> Response:
    return Response(PAGE, content_type="text/html; charset=utf-8")


@bp.get("/init.js")
@hide
async def init_js() -> Response:
    return Response(INIT_JS, content_type="text/javascript; charset=utf-8")


@bp.get("/assets/<filename>")
@hide
async def asset(filename: str) -> Response:
    if filename not in ASSETS:
        raise NotFound()
    return await send_static(ASSETS_DIR, filename)


protect(bp, CSP)


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
