"""Liveness and readiness."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from backend import create_app
from backend.runtime import migrate
from backend.runtime.config import Settings

from . import pg


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_readyz_is_503_until_migrations_ran(pg_server: str) -> None:
    with pg.scratch_database(pg_server, "unmigrated") as url:
        app = create_app(Settings(database_url=url))
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                response = await c.get("/readyz")
                assert response.status_code == 503
                assert response.headers["content-type"] == "application/problem+json"
                assert "migrations" in response.json()["detail"]
                pg.in_thread(migrate.upgrade)(url)
                assert (await c.get("/readyz")).status_code == 200
