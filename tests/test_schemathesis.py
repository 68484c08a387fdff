"""Property-based API tests: schemathesis generates requests from our OpenAPI document and
checks that no response is a 5xx and every response matches the documented schema."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from backend import create_app
from backend.runtime.config import Settings

from . import pg
from .servers import free_port, server
from .test_cli import first_account


def openapi_document() -> dict:
    """The document the app serves, made without a database (it needs none)."""
    app = create_app(Settings(database_url="postgresql://unused@127.0.0.1:1/unused", auth="on"))

    async def fetch() -> dict:
        return await (await app.test_client().get("/openapi.json")).get_json()

    return asyncio.run(fetch())


# Revoking a token would take the fuzzer's own credentials away mid-run.
schema = (
    schemathesis.openapi.from_dict(openapi_document())
    .include(path_regex="^/api/")
    .exclude(path="/api/tokens/{token_id}", method="DELETE")
)
# GET /api/events never ends: its first event (`ready`, or `reset`) is checked, then it is left.
schema.config.max_stream_events = 1


@pytest.fixture(scope="module")
def api_url(pg_server: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A real `todoapp serve` in its own process (these tests are synchronous), with an
    account whose access token the requests carry."""
    with pg.scratch_database(pg_server, "fuzz") as url:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "AUTH": "on"}
        with server(["serve"], env) as proc:
            base = f"http://127.0.0.1:{port}"
            headers = asyncio.run(first_account(base, env))
            yield base, headers
            # On a failure, pytest shows this: the server's side of the story.
            print("".join(proc.log[-200:]))


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(
    case: schemathesis.Case, api_url: tuple[str, dict[str, str]]
) -> None:
    base, headers = api_url
    case.call_and_validate(
        base_url=base, headers=headers, checks=[not_a_server_error, response_schema_conformance]
    )
