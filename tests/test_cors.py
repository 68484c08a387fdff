"""CORS: off unless CORS_ORIGINS lists the origin (or '*'); preflight included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from backend.edge.cors import REQUEST_HEADERS as CORS_REQUEST_HEADERS
from backend.edge.cors import RESPONSE_HEADERS as CORS_RESPONSE_HEADERS
from backend.runtime.config import Settings

from .servers import app_client, todoapp

PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": ", ".join(CORS_REQUEST_HEADERS),
}


def header_set(value: str) -> set[str]:
    return {v.strip().lower() for v in value.split(",")}


async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings) as (_, c):  # signed in as alice
        yield c


@pytest.fixture
async def open_client(settings: Settings, clean_db: object) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_for(replace(settings, cors_origins=("https://app.example",))):
        yield c


@pytest.fixture
async def star_client(settings: Settings, clean_db: object) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_for(replace(settings, cors_origins=("*",))):
        yield c


async def test_cors_is_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/todos", headers={"Origin": "https://app.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    response = await client.options("/api/todos", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in response.headers


def test_the_headers_a_client_needs_are_allowed_and_exposed() -> None:
    assert {"if-match", "if-none-match", "idempotency-key", "x-request-id"} <= {
        h.lower() for h in CORS_REQUEST_HEADERS
    }
    needed = {"etag", "location", "link", "x-total-count", "retry-after", "idempotent-replayed"}
    assert needed <= {h.lower() for h in CORS_RESPONSE_HEADERS}


async def test_listed_origin_gets_headers_and_preflight(open_client: httpx.AsyncClient) -> None:
    response = await open_client.options("/api/todos/1", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    allowed = header_set(response.headers["access-control-allow-headers"])
    assert {h.lower() for h in CORS_REQUEST_HEADERS} <= allowed

    response = await open_client.post(
        "/api/todos", json={"title": "x"}, headers={"Origin": "https://app.example"}
    )
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    exposed = header_set(response.headers["access-control-expose-headers"])
    assert {h.lower() for h in CORS_RESPONSE_HEADERS} <= exposed


async def test_a_real_preflight_on_the_production_server(
    database_url: str, clean_db: object
) -> None:
    with todoapp(database_url, CORS_ORIGINS="https://app.example") as url:
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.options("/api/todos/1", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    allowed = header_set(response.headers["access-control-allow-headers"])
    assert {h.lower() for h in CORS_REQUEST_HEADERS} <= allowed


async def test_unlisted_origin_gets_no_headers(open_client: httpx.AsyncClient) -> None:
    response = await open_client.get("/api/todos", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_wildcard_allows_any_origin(star_client: httpx.AsyncClient) -> None:
    response = await star_client.options(
        "/api/todos", headers={**PREFLIGHT, "Origin": "https://anything.example"}
    )
    assert response.headers["access-control-allow-origin"] == "*"


TOO_LARGE = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://app.example", "https://app.example"), ("https://evil.example", None)],
)
async def test_a_refusal_before_the_app_carries_the_cors_headers(
    open_client: httpx.AsyncClient, origin: str, allowed: str | None
) -> None:
    """The edge refuses a body over 1 MiB before the app (and quart-cors) runs: a browser
    app on a listed origin must still be able to read the answer (it was an opaque error)."""
    headers = {"Origin": origin, "Content-Type": "application/json"}
    response = await open_client.post("/api/todos", content=TOO_LARGE, headers=headers)
    assert response.status_code == 413
    assert response.headers.get("access-control-allow-origin") == allowed
    if allowed:
        exposed = header_set(response.headers["access-control-expose-headers"])
        assert {h.lower() for h in CORS_RESPONSE_HEADERS} <= exposed
        assert response.headers["vary"] == "Origin"


async def test_a_refusal_before_the_app_with_the_wildcard(star_client: httpx.AsyncClient) -> None:
    headers = {"Origin": "https://anything.example", "Content-Type": "application/json"}
    response = await star_client.post("/api/todos", content=TOO_LARGE, headers=headers)
    assert (response.status_code, response.headers["access-control-allow-origin"]) == (413, "*")
