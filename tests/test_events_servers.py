"""The feed across processes: `todoapp serve` instances (granian, several workers) on one
database deliver each other's events, and a graceful shutdown ends their streams."""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import AsyncExitStack

import asyncpg
import httpx

from . import pg
from .servers import free_port, server
from .sse import stream
from .users import bearer


async def test_a_change_through_one_server_reaches_streams_on_another(pg_server: str) -> None:
    """Server A (2 workers) and server B (1 worker) share a database. Streams on both, and
    on both of A's workers, receive a change made through A and one made through B (with
    accounts on: one user's token on both servers), each on the stream it opened.

    (Until the hand-off gave the app a receive of its own, about one run in five saw a
    granian worker end a stream at once with a spurious http.disconnect: live/handoff.py.)"""
    with pg.scratch_database(pg_server, "servers") as url:
        ports = [free_port(), free_port()]
        envs = [{**os.environ, "DATABASE_URL": url, "PORT": str(port)} for port in ports]
        with server(["serve", "--workers", "2"], envs[0]), server(["serve"], envs[1]):
            a, b = (f"http://127.0.0.1:{port}" for port in ports)
            async with AsyncExitStack() as stack:
                token = await token_of_new_user(a)
                clients = {
                    base: await stack.enter_async_context(
                        httpx.AsyncClient(base_url=base, headers=bearer(token))
                    )
                    for base in (a, b)
                }
                # Eight streams on A: SO_REUSEPORT spreads them over both of its workers.
                on_a = [await stack.enter_async_context(stream(clients[a])) for _ in range(8)]
                on_b = await stack.enter_async_context(stream(clients[b]))
                streams = [(clients[a], sse) for sse in on_a] + [(clients[b], on_b)]
                for _, sse in streams:
                    await sse.ready()
                for writer, title in ((clients[a], "through A"), (clients[b], "through B")):
                    created = await writer.post("/api/todos", json={"title": title})
                    assert created.status_code == 201
                    for _, sse in streams:
                        event = await sse.event()  # the same stream: none may end meanwhile
                        assert event.kind == "todos.created"
                        assert event.todos[0]["title"] == title
                # One listening connection per worker, whatever the number of streams.
                assert await listeners(url) == 3


async def token_of_new_user(base: str) -> str:
    """Signs up "dana" (from the server's own origin, as its pages would); her new token."""
    async with httpx.AsyncClient(base_url=base, headers={"Origin": base}) as browser:
        credentials = {"username": "dana", "password": "dana's long secret"}
        assert (await browser.post("/api/auth/signup", json=credentials)).status_code == 201
        created = await browser.post("/api/tokens", json={"name": "tests"})
        assert created.status_code == 201, created.text
        return created.json()["token"]


async def listeners(url: str) -> int:
    conn = await asyncpg.connect(pg.plain(url))
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'todoapp-listener' "
            "AND datname = current_database()"
        )
    finally:
        await conn.close()


async def test_sigterm_ends_every_stream_and_the_server_stops_at_once(pg_server: str) -> None:
    """The server stops when its open responses end; streams never end by themselves, so
    the shutdown ends them: each response ends properly, not cut by granian killing the
    worker after 10 s. (Not told by granian's log: its "Killing worker after it refused to
    gracefully stop" also shows, now and then, for a worker that has exited already, when
    its two threads that wait for the worker's exit race.)"""
    with pg.scratch_database(pg_server, "shutdown") as url:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "AUTH": "off"}
        with server(["serve", "--workers", "2"], env) as proc:
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base) as client, AsyncExitStack() as stack:
                streams = [await stack.enter_async_context(stream(client)) for _ in range(4)]
                for sse in streams:
                    await sse.ready()
                proc.send_signal(signal.SIGTERM)
                for sse in streams:
                    ending = [m.kind for m in await sse.end(cleanly=True)]
                    assert ending in ([], ["comment"])
            assert await asyncio.to_thread(proc.wait, 30) == 0
