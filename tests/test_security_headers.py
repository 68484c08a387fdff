"""Security headers on every response: API, errors, refusals made before the app, /metrics,
/openapi.json, the web app's pages and /docs, each with a Content-Security-Policy that suits
it."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
NOTHING_LOADS = "default-src 'none'"


def assert_protected(response: httpx.Response) -> str:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    return csp


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/todos", 200),
        ("POST", "/api/todos", 201),
        ("GET", "/api/todos/424242", 404),
        ("DELETE", "/api/lists", 405),
        ("POST", "/api/lists", 422),
        ("GET", "/healthz", 200),
        ("GET", "/metrics", 200),
        ("GET", "/openapi.json", 200),
    ],
)
async def test_api_responses_may_load_nothing(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    body = {"title": "t"} if path == "/api/todos" and method == "POST" else {}
    response = await client.request(method, path, json=body if method == "POST" else None)
    assert response.status_code == status
    assert assert_protected(response).startswith(NOTHING_LOADS)


async def test_refusals_made_before_the_app_are_protected_too(client: httpx.AsyncClient) -> None:
    refused = await client.get("/api/todos", headers={"Host": "evil.example"})  # hosts.py
    assert refused.status_code == 400
    assert assert_protected(refused).startswith(NOTHING_LOADS)
    too_big = await client.post("/api/todos", content=b"x" * (2 * 1024 * 1024))  # bodies.py
    assert too_big.status_code == 413
    assert assert_protected(too_big).startswith(NOTHING_LOADS)


async def test_the_web_app_keeps_its_own_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    csp = assert_protected(page)
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp


async def test_docs_page_policy_allows_exactly_its_inline_scripts(
    client: httpx.AsyncClient,
) -> None:
    """Whatever the page is (Swagger UI from a CDN or served by the app), every inline script
    it has is allowed by its hash, and nothing is allowed inline wholesale."""
    docs = await client.get("/docs")
    assert docs.status_code == 200
    csp = assert_protected(docs)
    assert "'unsafe-inline'" not in csp
    for script in re.findall(r"<script>(.*?)</script>", docs.text, re.S):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
