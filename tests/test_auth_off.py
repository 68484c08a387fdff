"""AUTH=off: one implicit user (a real row, id 0) owns everything and every request acts as
that user, as before accounts: the Todo-Backend contract, no sign-in, and no binding to
an address other machines reach unless AUTH_OFF_ALLOW_REMOTE=1."""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest

from . import pg
from .servers import TODOAPP, free_port, server
from .test_todos import create


@pytest.fixture
def inbox_owner() -> int:
    return 0  # list 1 is the implicit user's Inbox


async def test_every_request_is_the_implicit_users(client_off: httpx.AsyncClient) -> None:
    assert (await client_off.get("/api/me")).json() == {"id": 0, "username": None}
    todo = await create(client_off, title="no sign-in needed")
    assert todo["list_id"] == 1
    [inbox] = (await client_off.get("/api/lists")).json()
    assert (inbox["owner"], inbox["role"]) == (None, "owner")


async def test_account_routes_do_not_exist(client_off: httpx.AsyncClient) -> None:
    for method, path in [
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/signup"),
        ("GET", "/api/tokens"),
        ("GET", "/api/lists/1/members"),
    ]:
        response = await client_off.request(method, path, json={})
        assert response.status_code == 404, (method, path)


async def test_the_implicit_user_sees_only_its_own_lists(
    client_off: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    """Accounts made while AUTH=on keep their data when the server runs with AUTH=off."""
    mine = (await client.post("/api/lists", json={"name": "alice's"})).json()
    assert (await client_off.get(f"/api/lists/{mine['id']}")).status_code == 404
    assert [lst["id"] for lst in (await client_off.get("/api/lists")).json()] == [1]


def test_refuses_to_serve_other_machines_without_accounts() -> None:
    env = {**os.environ, "AUTH": "off", "DATABASE_URL": "postgresql://unused@127.0.0.1:1/x"}
    env.pop("AUTH_OFF_ALLOW_REMOTE", None)
    result = subprocess.run(
        [*TODOAPP, "serve", "--host", "0.0.0.0"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # says why, in one line
    assert "refusing to serve 0.0.0.0 with AUTH=off" in lines[0]
    assert "AUTH_OFF_ALLOW_REMOTE=1" in lines[0]


async def test_serves_other_machines_when_told_to(pg_server: str) -> None:
    with pg.scratch_database(pg_server, "offremote") as url:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PORT": str(port)}
        env.update(AUTH="off", AUTH_OFF_ALLOW_REMOTE="1")
        with server(["serve", "--host", "0.0.0.0"], env):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                created = await http.post("/api/todos", json={"title": "anyone may"})
                assert created.status_code == 201


async def test_todo_backend_contract(client_off: httpx.AsyncClient) -> None:
    """The flow the public Todo-Backend spec runs, against the collection root /api/todos."""
    assert (await client_off.delete("/api/todos")).status_code == 204
    assert (await client_off.get("/api/todos")).json() == []

    todo = await create(client_off, title="a todo", order=523)
    assert todo["completed"] is False
    assert todo["order"] == 523
    # The url is absolute and is where the item lives: GET, PATCH and DELETE work on it.
    assert todo["url"].startswith("http://")
    assert (await client_off.get(todo["url"])).json()["title"] == "a todo"
    changed = await client_off.patch(
        todo["url"], json={"title": "bathe the cat", "completed": True}
    )
    assert changed.json()["title"] == "bathe the cat"
    assert changed.json()["completed"] is True
    assert [t["url"] for t in (await client_off.get("/api/todos")).json()] == [todo["url"]]
    assert (await client_off.delete(todo["url"])).status_code == 204
    assert (await client_off.get("/api/todos")).json() == []
