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
from .sse import Message, Stream, stream
from .users import bearer


async def test_a_change_through_one_server_reaches_streams_on_another(pg_server: str) -> None:
    """Server A (2 workers) and server B (1 worker) share a database. Streams on both, and
    on both of A's workers, receive a change made through A and one made through B (with
    accounts on: one user's token on both servers)."""
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
                last = [(await sse.ready()).id for _, sse in streams]
                for writer, title in ((clients[a], "through A"), (clients[b], "through B")):
                    created = await writer.post("/api/todos", json={"title": title})
                    assert created.status_code == 201
                    for i, (client, sse) in enumerate(streams):
                        sse, event = await event_or_resumed(stack, client, sse, last[i])
                        streams[i], last[i] = (client, sse), event.id
                        assert event.kind == "todos.created"
                        assert event.todos[0]["title"] == title
                # One listening connection per worker, whatever the number of streams.
                assert await listeners(url) == 3


async def event_or_resumed(
    stack: AsyncExitStack, client: httpx.AsyncClient, sse: Stream, last_id: int | None
) -> tuple[Stream, Message]:
    """The stream's next event past any `ready`; if the server ended the stream meanwhile,
    the same event through a reconnection with Last-Event-ID, as a browser's EventSource
    gets it. (Open bug: now and then a granian worker with several workers ends a live
    stream, or starts it again, about one run in five of this test; delivery must still
    miss nothing.)"""
    for _ in range(3):
        try:
            event = await sse.event()
        except EOFError:
            sse = await stack.enter_async_context(stream(client, last_event_id=str(last_id)))
            continue
        if event.kind != "ready":
            return sse, event
    raise AssertionError("no event after three tries")


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
    the shutdown ends them (instead of granian killing the worker after 10 s)."""
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
                    assert [m.kind for m in await sse.end()] in ([], ["comment"])
            assert await asyncio.to_thread(proc.wait, 30) == 0
        log = "".join(proc.log)
        assert "refused to gracefully stop" not in log, log
