"""Every error is problem+json with a stable shape, and no error leaves a partial write."""

from __future__ import annotations

import re

import httpx
import pytest
from asgi_lifespan import LifespanManager

from backend import create_app
from backend.runtime.config import Settings

from .users import AUTH_HEADERS

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"].startswith("urn:todoapp:problem:")
    assert "Traceback" not in response.text
    return body


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/todos", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"title": ""}, "/title"),
        ({"title": "   "}, "/title"),
        ({"title": "x" * 501}, "/title"),
        ({"title": 42}, "/title"),
        ({"title": "ok", "completed": "yes"}, "/completed"),
        ({"title": "ok", "completed": 1}, "/completed"),
        ({"title": "ok", "order": "first"}, "/order"),
        ({"title": "ok", "order": 2**31}, "/order"),
        ({"title": "ok", "list_id": 0}, "/list_id"),
        ({"title": "ok", "colour": "red"}, "/colour"),
        ({}, "/title"),
    ],
)
async def test_invalid_todo_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict, pointer: str
) -> None:
    problem = assert_problem(await client.post("/api/todos", json=body), 422)
    assert pointer in [e["pointer"] for e in problem["errors"]]
    assert (await client.get("/api/todos")).json() == []


async def test_non_object_body_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/api/todos", json="just a string"), 422)
    response = await client.post(
        "/api/todos", content=b"null", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


async def test_body_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/todos", content=b"title=x")
    assert_problem(response, 415)
    response = await client.post(
        "/api/todos", content=b"title=x", headers={"content-type": "text/plain"}
    )
    assert_problem(response, 415)


async def test_invalid_patch_changes_nothing(client: httpx.AsyncClient) -> None:
    todo = (await client.post("/api/todos", json={"title": "keep me"})).json()
    for body in ({"title": ""}, {"title": None}, {"completed": "true"}, {"title": "x", "id": 3}):
        assert_problem(await client.patch(todo["url"], json=body), 422)
    # A valid field next to an unknown list: the whole PATCH is refused, the title stays.
    problem = assert_problem(
        await client.patch(todo["url"], json={"title": "changed", "list_id": 999}), 422
    )
    assert problem["errors"][0]["pointer"] == "/list_id"
    assert (await client.get(todo["url"])).json() == todo


async def test_unknown_list_on_create_is_422(client: httpx.AsyncClient) -> None:
    problem = assert_problem(
        await client.post("/api/todos", json={"title": "x", "list_id": 99}), 422
    )
    assert problem["errors"] == [{"pointer": "/list_id", "detail": "no such list"}]


async def test_invalid_query_parameters_are_422(client: httpx.AsyncClient) -> None:
    for params in ({"completed": "maybe"}, {"list_id": "abc"}, {"limit": "-1"}):
        problem = assert_problem(await client.get("/api/todos", params=params), 422)
        assert problem["errors"][0]["parameter"] == next(iter(params))


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        for url in ("/api/todos/12345", "/api/lists/12345"):
            body = {} if method == "PATCH" else None
            assert_problem(await client.request(method, url, json=body), 404)
    assert_problem(await client.get("/api/nothing-here"), 404)


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_an_unknown_path_is_a_page_for_browsers_and_a_problem_for_clients(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no/such/page", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "There is nothing here" in page.text and 'href="/"' in page.text
    assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None  # no inline script
    # Scripts, curl and API paths keep the problem+json.
    assert_problem(await client.get("/no/such/page"), 404)
    assert_problem(await client.get("/no/such/page", headers={"Accept": "*/*"}), 404)
    assert_problem(await client.get("/api/nothing", headers={"Accept": BROWSER_ACCEPT}), 404)
    assert_problem(await client.get("/api/todos/424242", headers={"Accept": BROWSER_ACCEPT}), 404)


async def test_unsupported_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/todos/1", json={"title": "x"})
    assert_problem(response, 405)
    assert "PATCH" in response.headers["allow"]


async def test_body_over_1_mib_is_413(client: httpx.AsyncClient) -> None:
    big = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    response = await client.post(
        "/api/todos", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_database_unreachable_is_a_quick_503() -> None:
    # A port nobody listens on: the connection is refused at once.
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", db_connect_timeout=2)
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        # With a token: its look-up is the first thing that needs the database.
        async with httpx.AsyncClient(
            transport=transport, base_url="http://localhost", headers=AUTH_HEADERS
        ) as c:
            for request in (c.get("/api/todos"), c.post("/api/todos", json={"title": "x"})):
                response = await request
                assert_problem(response, 503)
                assert response.headers["retry-after"].isdigit()
            # Liveness does not depend on the database; readiness does.
            assert (await c.get("/healthz")).status_code == 200
            assert_problem(await c.get("/readyz"), 503)
