"""The OpenAPI document proven: valid OpenAPI 3.1, complete for a client developer, and good
enough for a generator: a client generated from it (openapi-python-client, into a temporary
folder) runs a scenario against a live server."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from .users import ALICE_TOKEN

BIN = Path(sys.executable).parent
METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/openapi.json")).json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in node:
        return node
    found: Any = document
    for part in node["$ref"].removeprefix("#/").split("/"):
        found = found[part]
    return found


def header_params(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    params = (resolve(document, p) for p in operation["parameters"])
    return {p["name"] for p in params if p["in"] == "header"}


async def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"] == "3.1.0"


async def test_every_operation_has_a_summary_an_example_and_typed_answers(
    document: dict[str, Any],
) -> None:
    ops = operations(document)
    # 15 of todos, lists, probes and metrics; 3 restores; 13 of accounts; the event stream
    assert len(ops) == 32
    text = json.dumps(document)
    assert "Built-in mutable sequence" not in text
    assert "for the OpenAPI document" not in text
    for method, path, operation in ops:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        media = [
            m
            for r in [operation.get("requestBody", {}), *operation["responses"].values()]
            for m in r.get("content", {}).values()
        ]
        assert any("example" in m for m in media) or path == "/metrics", where
        assert "X-Request-ID" in header_params(document, operation), where
        for status, response in operation["responses"].items():
            assert response["description"], (where, status)
            assert "X-Request-ID" in response["headers"], (where, status)
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (where, status)
                assert response["content"]["application/problem+json"]["example"]["status"] == int(
                    status
                )
            if status == "503":
                assert "Retry-After" in response["headers"], where


async def test_headers_and_collections_are_documented(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in ("/api/todos", "/api/lists"):
        page = paths[path]["get"]["responses"]["200"]
        schema = page["content"]["application/json"]["schema"]
        assert schema["type"] == "array" and "$ref" in schema["items"]
        assert {"Link", "X-Total-Count"} <= set(page["headers"])
        created = paths[path]["post"]
        assert "Idempotency-Key" in header_params(document, created)
        assert {"Location", "ETag", "Idempotent-Replayed"} <= set(
            created["responses"]["201"]["headers"]
        )
    for item in ("/api/todos/{todo_id}", "/api/lists/{list_id}"):
        get, patch, delete = (paths[item][m] for m in ("get", "patch", "delete"))
        assert "If-None-Match" in header_params(document, get)
        assert {"304", "404"} <= set(get["responses"])
        assert "ETag" in get["responses"]["200"]["headers"]
        assert "If-Match" in header_params(document, patch)
        assert "If-Match" in header_params(document, delete)
        assert "ETag" in patch["responses"]["412"]["headers"]
        assert "content" not in delete["responses"]["204"]
    assert "204" in paths["/api/todos"]["delete"]["responses"]


async def test_a_generated_client_runs_a_scenario(
    live_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The generator takes the live document without a warning; its client then creates a
    list, adds todos, pages, updates with If-Match, meets a 412, and deletes."""
    spec = tmp_path / "openapi.json"
    spec.write_text((await live_client.get("/openapi.json")).text)
    output = tmp_path / "todoapp_client"
    command = ["generate", "--path", spec, "--meta", "none", "--output-path", output]
    result = subprocess.run(
        [BIN / "openapi-python-client", *command],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},  # its ruff
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        await scenario(str(live_client.base_url))
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith("todoapp_client")]:
            del sys.modules[name]


def generated(module: str) -> Any:
    return importlib.import_module(f"todoapp_client.{module}")


async def scenario(base_url: str) -> None:
    models = generated("models")
    create_list, delete_list = (
        generated("api.lists.create_list"),
        generated("api.lists.delete_list"),
    )
    create_todo, list_todos = generated("api.todos.create_todo"), generated("api.todos.list_todos")
    get_todo, update_todo = generated("api.todos.get_todo"), generated("api.todos.update_todo")
    delete_todo = generated("api.todos.delete_todo")
    client_class = generated("client").AuthenticatedClient  # the document's bearer scheme
    async with client_class(base_url=base_url, token=ALICE_TOKEN) as client:
        made = await create_list.asyncio_detailed(
            client=client, body=models.ListCreate(name="Generated"), idempotency_key="gen-1"
        )
        assert made.status_code == 201
        list_id = made.parsed.id
        for title in ("one", "two", "three"):
            added = await create_todo.asyncio_detailed(
                client=client, body=models.TodoCreate(title=title, list_id=list_id)
            )
            assert added.status_code == 201
            assert added.parsed.title == title

        first = await list_todos.asyncio_detailed(client=client, list_id=list_id, limit=2)
        assert [t.title for t in first.parsed] == ["one", "two"]
        cursor = re.search(r"cursor=([^&>]+)", first.headers["link"]).group(1)
        rest = await list_todos.asyncio_detailed(
            client=client, list_id=list_id, limit=2, cursor=cursor
        )
        assert [t.title for t in rest.parsed] == ["three"]

        todo = first.parsed[0]
        read = await get_todo.asyncio_detailed(todo.id, client=client)
        etag = read.headers["etag"]
        changed = await update_todo.asyncio_detailed(
            todo.id, client=client, body=models.TodoUpdate(completed=True), if_match=etag
        )
        assert changed.status_code == 200
        assert changed.parsed.completed is True
        stale = await update_todo.asyncio_detailed(
            todo.id, client=client, body=models.TodoUpdate(title="stale"), if_match=etag
        )
        assert stale.status_code == 412
        assert stale.parsed.type_ == "urn:todoapp:problem:precondition-failed"
        assert stale.parsed.current["version"] == changed.parsed.version

        gone = await delete_todo.asyncio_detailed(
            todo.id, client=client, if_match=changed.headers["etag"]
        )
        assert gone.status_code == 204
        missing = await get_todo.asyncio_detailed(todo.id, client=client)
        assert missing.status_code == 404
        assert missing.parsed.status == 404
        dropped = await delete_list.asyncio_detailed(list_id, client=client)
        assert dropped.status_code == 204
