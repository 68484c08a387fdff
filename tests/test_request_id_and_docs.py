"""X-Request-ID on every response and log line; the OpenAPI document and the docs page."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from asgi_lifespan import LifespanManager

from backend import create_app
from backend.edge import requestid
from backend.runtime.config import Settings

from .users import AUTH_HEADERS


async def test_a_valid_client_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/todos", headers={"X-Request-ID": "abc-123.retry:2"})
    assert response.headers["x-request-id"] == "abc-123.retry:2"


async def test_a_missing_or_unsafe_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    fresh = await client.get("/api/todos")
    other = await client.get("/api/todos")
    assert len(fresh.headers["x-request-id"]) == 32
    assert fresh.headers["x-request-id"] != other.headers["x-request-id"]
    unsafe = await client.get("/api/todos", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
    assert len(unsafe.headers["x-request-id"]) == 32


async def test_errors_carry_the_request_id_and_log_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A request that logs (here: the database is down) tags its lines with its id."""
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    caplog.set_level(logging.INFO)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            headers = {"X-Request-ID": "trace-me", **AUTH_HEADERS}  # the look-up logs
            response = await c.get("/api/todos", headers=headers)
    assert response.status_code == 503
    assert response.headers["x-request-id"] == "trace-me"
    tagged = [r for r in caplog.records if getattr(r, "request_id", None) == "trace-me"]
    assert any("database" in r.getMessage() for r in tagged)
    # LOG_FORMAT=json: the same line as one JSON object, with the id.
    line = requestid.formatter("json").format(tagged[0])
    assert "\n" not in line
    assert json.loads(line)["request_id"] == "trace-me"


async def test_openapi_document_and_docs_page(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert {"get", "post", "patch", "delete"} <= set(paths["/api/todos"])
    assert {"get", "patch", "delete"} <= set(paths["/api/todos/{todo_id}"])
    create = paths["/api/todos"]["post"]
    assert "201" in create["responses"] and "422" in create["responses"]
    query = [p for p in paths["/api/todos"]["get"]["parameters"] if p.get("in") == "query"]
    assert {p["name"] for p in query} >= {
        "list_id",
        "completed",
        "q",
        "sort",
        "cursor",
        "limit",
        "count",
    }
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert docs.text.startswith("<!doctype html>")
    assert "//" not in docs.text.replace("<!doctype", "")  # no URL of another host
    init = await client.get("/docs/init.js")
    assert init.headers["content-type"].startswith("text/javascript")
    assert '"/openapi.json"' in init.text


async def test_docs_serve_only_the_assets_the_page_uses(client: httpx.AsyncClient) -> None:
    css = await client.get("/docs/assets/swagger-ui.css")
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert "default-src 'none'" in css.headers["content-security-policy"]
    for other in ("swagger-editor-bundle.js", "..%2F..%2Fcore.py", "%2Fetc%2Fpasswd", "LICENSE"):
        response = await client.get(f"/docs/assets/{other}")
        assert response.status_code == 404, other
        assert response.headers["content-type"] == "application/problem+json"
