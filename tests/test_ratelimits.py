"""Rate limits on sign-in and sign-up: 10 failures per 15 minutes per username and per client
address, then 429 + Retry-After; counted in PostgreSQL, so they hold across workers."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.data.ratelimits import LIMIT, WINDOW

from .servers import free_port, server
from .users import ALICE, ALICE_PASSWORD

WRONG = "not the password at all"


@pytest.fixture
async def from_address(
    app: Quart, clean_db: AsyncEngine
) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """Clients that the app sees coming from a given address."""
    clients: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://localhost"))
        return clients[-1]

    yield make
    for c in clients:
        await c.aclose()


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= WINDOW.total_seconds()


async def test_per_username_whatever_the_address(
    from_address: Callable[[str], httpx.AsyncClient],
) -> None:
    for i in range(LIMIT):
        assert (await login(from_address(f"198.51.100.{i}"), ALICE, WRONG)).status_code == 401
    elsewhere = from_address("203.0.113.7")
    # Even the right password: the guesser cannot learn it is right.
    assert_limited(await login(elsewhere, ALICE.upper(), ALICE_PASSWORD))
    assert (await login(elsewhere, "bob", WRONG)).status_code == 401  # other names go on


async def test_per_address_whatever_the_username(
    from_address: Callable[[str], httpx.AsyncClient],
) -> None:
    guesser = from_address("198.51.100.1")
    for i in range(LIMIT):
        assert (await login(guesser, f"user{i}", WRONG)).status_code == 401
    assert_limited(await login(guesser, "someone-else", WRONG))
    signup = {"username": "newcomer", "password": "a long new secret"}
    assert_limited(await guesser.post("/api/auth/signup", json=signup))
    # IPv6: the whole /64 is one client.
    v6 = [from_address(f"2001:db8::{i:x}") for i in range(LIMIT + 1)]
    for i, client in enumerate(v6[:LIMIT]):
        assert (await login(client, f"v6user{i}", WRONG)).status_code == 401
    assert_limited(await login(v6[LIMIT], "v6other", WRONG))
    assert (await login(from_address("2001:db8:0:1::1"), ALICE, ALICE_PASSWORD)).status_code == 200


async def test_a_successful_sign_in_clears_the_usernames_failures(
    from_address: Callable[[str], httpx.AsyncClient],
) -> None:
    for i in range(LIMIT - 1):
        assert (await login(from_address(f"198.51.100.{i}"), ALICE, WRONG)).status_code == 401
    assert (await login(from_address("203.0.113.1"), ALICE, ALICE_PASSWORD)).status_code == 200
    for i in range(LIMIT - 1):
        assert (await login(from_address(f"192.0.2.{i}"), ALICE, WRONG)).status_code == 401


def requests_by_pid(folder: Path, route: str, status: str) -> dict[str, float]:
    """Requests each worker process answered for a route and status, from the files the
    workers write their metrics to (one per process)."""
    counts = {}
    for path in folder.glob("counter_*.db"):
        total = 0.0
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if (
                '"todoapp_http_requests_total"' in key
                and f'"{route}"' in key
                and f'"{status}"' in key
            ):
                total += value
        counts[path.stem] = total
    return counts


async def test_the_limit_holds_across_two_workers(
    database_url: str, clean_db: AsyncEngine, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "AUTH": "on"}
    env.update(DB_POOL_SIZE="3", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    base = f"http://127.0.0.1:{port}"
    with server(["serve", "--workers", "2"], env) as proc:
        statuses = []
        for _ in range(LIMIT + 20):  # a new connection each: spread over both workers
            async with httpx.AsyncClient(base_url=base, timeout=30) as one:
                response = await login(one, ALICE, WRONG)
                statuses.append(response.status_code)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert statuses == [401] * LIMIT + [429] * 20
    refused = requests_by_pid(tmp_path, "/api/auth/login", "429")
    assert len([n for n in refused.values() if n > 0]) == 2, refused  # both workers refused
    assert sum(refused.values()) == 20
