"""The change feed: events recorded in the changing transaction, delivered over SSE.

Streams are read over a real socket (the session's Hypercorn server, or an app of its own
where a setting must differ); each read has a deadline, nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import asyncpg
import httpx
import orjson
import pytest
from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.data import events as event_store
from backend.live.feed import Feed, pace
from backend.runtime import migrate
from backend.runtime.config import Settings

from . import pg
from .servers import live_app, until
from .sse import stream
from .users import ALICE_ID, AUTH_HEADERS


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[Quart, httpx.AsyncClient]]:
    """An app of its own (these settings) on a real socket, and a client for it (alice's)."""
    limits = httpx.Limits(max_connections=50)
    async with (
        live_app(settings) as (app, url),
        httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=AUTH_HEADERS) as client,
    ):
        yield app, client


def feed_of(app: Quart) -> Feed:
    return app.extensions["live_feed"]


async def event_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()


async def add(client: httpx.AsyncClient, title: str, **fields: object) -> dict:
    response = await client.post("/api/todos", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    return response.json()


# --- what is recorded ------------------------------------------------------------------


async def test_an_event_exists_if_and_only_if_its_change_committed(
    clean_db: AsyncEngine, live_client: httpx.AsyncClient
) -> None:
    before = await event_count(clean_db)
    async with clean_db.connect() as conn:
        await conn.execute(text("INSERT INTO todos (list_id, title, position) VALUES (1, 'x', 1)"))
        await conn.rollback()
    assert await event_count(clean_db) == before
    # Refused by the API (no such list): nothing committed, no event.
    response = await live_client.post("/api/todos", json={"title": "x", "list_id": 99})
    assert response.status_code == 422
    assert await event_count(clean_db) == before
    await add(live_client, "kept")
    assert await event_count(clean_db) == before + 1


async def test_changes_reach_an_open_stream_with_the_items_state(
    live_client: httpx.AsyncClient,
) -> None:
    async with stream(live_client) as sse:
        ready = await sse.ready()
        todo = await add(live_client, "Buy milk")
        created = await sse.event()
        assert created.kind == "todos.created" and created.id > ready.id
        assert created.data["list_id"] == 1 and created.todos == [todo]

        patched = await live_client.patch(todo["url"], json={"completed": True})
        updated = await sse.event()
        assert updated.kind == "todos.updated" and updated.todos == [patched.json()]
        assert updated.todos[0]["version"] == 2

        await live_client.delete(todo["url"])
        deleted = await sse.event()
        assert deleted.kind == "todos.deleted"
        assert [(t["id"], t["version"]) for t in deleted.todos] == [(todo["id"], 2)]

        renamed = await live_client.patch("/api/lists/1", json={"name": "Home"})
        list_event = await sse.event()
        assert list_event.kind == "list.updated" and list_event.data["list"] == renamed.json()


async def test_a_bulk_operation_is_one_event_per_list(live_client: httpx.AsyncClient) -> None:
    async with stream(live_client) as sse:
        await sse.ready()
        await live_client.post("/api/todos", json=[{"title": f"t{i}"} for i in range(3)])
        created = await sse.event()
        assert created.kind == "todos.created" and len(created.todos) == 3

        await live_client.patch("/api/todos?list_id=1", json={"completed": True})
        toggled = await sse.event()
        assert toggled.kind == "todos.updated"
        assert [t["completed"] for t in toggled.todos] == [True, True, True]

        # Past 100 todos the event says "refetch" instead of listing them.
        many = [{"title": f"m{i}", "completed": True} for i in range(150)]
        await live_client.post("/api/todos", json=many)
        big = await sse.event()
        assert big.kind == "todos.created" and big.data["refetch"] is True
        assert big.data["count"] == 150 and "todos" not in big.data

        cleared = await live_client.delete("/api/todos?list_id=1&completed=true")
        assert cleared.status_code == 204
        gone = await sse.event()
        assert gone.kind == "todos.deleted" and gone.data["count"] == 153

        await add(live_client, "after")  # the next event: nothing else came in between
        assert (await sse.event()).todos[0]["title"] == "after"


async def test_a_move_that_shifts_its_neighbours_does_not_flood_the_feed(
    live_client: httpx.AsyncClient,
) -> None:
    """50 todos at orders 1..50, no hole between them: the last one sent to order 1 moves
    many of the others (positions.py), and the feed tells it in a few events, not 50."""
    crowd = [{"title": f"t{i}", "order": i} for i in range(1, 51)]
    created = await live_client.post("/api/todos", json=crowd)
    last = next(t for t in created.json() if t["order"] == 50)
    async with stream(live_client) as sse:
        await sse.ready()
        moved = await live_client.patch(last["url"], json={"order": 1})
        assert moved.status_code == 200
        got = []
        while not any(t["id"] == last["id"] for m in got for t in m.todos):
            got.append(await sse.event())
        assert got[-1].todos[-1] == moved.json() or moved.json() in got[-1].todos
        states = sum(len(m.todos) for m in got)
        assert len(got) <= 3 and states > len(got), [len(m.todos) for m in got]
        await add(live_client, "next")
        assert (await sse.event()).todos[0]["title"] == "next"


async def test_a_todo_moving_to_another_list_is_told_to_both(
    live_client: httpx.AsyncClient,
) -> None:
    other = (await live_client.post("/api/lists", json={"name": "Other"})).json()
    todo = await add(live_client, "traveller")
    async with stream(live_client) as sse:
        await sse.ready()
        await live_client.patch(todo["url"], json={"list_id": other["id"]})
        one, two = await sse.events(2)
        assert {one.data["list_id"], two.data["list_id"]} == {1, other["id"]}
        assert one.todos[0]["list_id"] == two.todos[0]["list_id"] == other["id"]


async def test_deleting_a_list_with_its_todos_is_one_event(
    live_client: httpx.AsyncClient,
) -> None:
    doomed = (await live_client.post("/api/lists", json={"name": "Doomed"})).json()
    await live_client.post("/api/todos", json=[{"title": "a", "list_id": doomed["id"]}] * 3)
    async with stream(live_client) as sse:
        await sse.ready()
        assert (await live_client.delete(doomed["url"])).status_code == 204
        event = await sse.event()
        assert event.kind == "list.deleted" and event.data["list"]["id"] == doomed["id"]
        await add(live_client, "next")
        assert (await sse.event()).kind == "todos.created"


async def test_the_trash_deletes_and_restores_and_its_purge_is_no_news(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    todo = await add(live_client, "undoable")
    other = (await live_client.post("/api/lists", json={"name": "Undoable"})).json()
    async with stream(live_client) as sse:
        await sse.ready()
        await live_client.delete(todo["url"])
        deleted = await sse.event()
        assert deleted.kind == "todos.deleted" and deleted.todos[0]["id"] == todo["id"]
        restored = await live_client.post("/api/todos/restore", json={"ids": [todo["id"]]})
        back = await sse.event()
        assert back.kind == "todos.created" and back.todos == restored.json()

        await live_client.delete(other["url"])
        assert (await sse.event()).kind == "list.deleted"
        await live_client.post(f"/api/lists/{other['id']}/restore")
        relisted = await sse.event()
        assert relisted.kind == "list.created" and relisted.data["list"]["id"] == other["id"]

        await live_client.delete(todo["url"])
        assert (await sse.event()).kind == "todos.deleted"
        async with clean_db.begin() as conn:  # the purge, long after (as trash.py does it)
            await conn.execute(text("DELETE FROM todos WHERE deleted_at IS NOT NULL"))
        await add(live_client, "next")
        assert (await sse.event()).todos[0]["title"] == "next"


# --- resuming --------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["header", "query"])
async def test_resuming_after_n_missed_events_delivers_exactly_those(
    live_client: httpx.AsyncClient, how: str
) -> None:
    async with stream(live_client) as sse:
        last = (await sse.ready()).id
    missed = [await add(live_client, f"missed {i}") for i in range(5)]
    resume = {"last_event_id": str(last)} if how == "header" else {}
    params = {"since": last} if how == "query" else None
    async with stream(live_client, params, **resume) as sse:
        replayed = await sse.events(5)
        assert [m.todos[0] for m in replayed] == missed
        ready = await sse.ready()
        assert ready.id == replayed[-1].id
        await add(live_client, "live")
        assert (await sse.event()).todos[0]["title"] == "live"


async def test_last_event_id_wins_over_since(live_client: httpx.AsyncClient) -> None:
    """An automatic reconnection repeats the URL (with its ?since=) and adds Last-Event-ID."""
    first = await add(live_client, "first")
    async with stream(live_client) as sse:
        ready = await sse.ready()
    await add(live_client, "second")
    async with stream(live_client, {"since": 0}, last_event_id=str(ready.id)) as sse:
        assert (await sse.event()).todos[0]["title"] == "second"
    assert first["title"] == "first"


async def test_an_id_older_than_the_retention_gets_a_reset(
    database_url: str, live_client: httpx.AsyncClient
) -> None:
    async with stream(live_client) as sse:
        await sse.ready()
        await add(live_client, "old")
        old = await sse.event()
    await add(live_client, "newer")
    conn = await asyncpg.connect(pg.plain(database_url))
    try:  # all but the newest, a batch at a time (the session's tests left many)
        for _ in range(1000):
            if not await conn.fetchval("SELECT count(*) FROM events WHERE id = $1", old.id):
                break
            await event_store.prune(conn, retention_s=0, batch=1000)
    finally:
        await conn.close()
    async with stream(live_client, last_event_id=str(old.id)) as sse:
        reset = await sse.event()
        assert reset.kind == "reset" and reset.data == {"reason": "expired"}
        ready = await sse.ready()
        assert ready.id == reset.id
        await add(live_client, "after the reset")
        assert (await sse.event()).todos[0]["title"] == "after the reset"


async def test_the_feed_prunes_expired_events_by_itself(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    async with served(replace(settings, events_retention=0, events_heartbeat=0.05)) as (_, client):
        for i in range(3):
            await add(client, f"short-lived {i}")

        async def only_the_newest_left() -> bool:
            return await event_count(clean_db) == 1

        await until(only_the_newest_left, "the feed pruned the expired events")


async def test_transactions_committing_in_reverse_order_of_their_ids_are_both_delivered(
    live_app_: Quart, clean_db: AsyncEngine, live_client: httpx.AsyncClient
) -> None:
    """Event ids are drawn before commit: the first drawn can commit last. It must still be
    delivered, once, however the feed's reads fall between the two commits."""
    feed = feed_of(live_app_)
    insert = text("INSERT INTO todos (list_id, title, position) VALUES (1, :title, :position)")
    async with stream(live_client) as sse:
        await sse.ready()
        async with clean_db.connect() as first, clean_db.connect() as second:
            await first.execute(insert, {"title": "drawn first", "position": 1})
            await second.execute(insert, {"title": "drawn second", "position": 2})
            await second.commit()
            await feed.sync()  # the feed has read the table between the two commits
            await first.commit()
        got = await sse.events(2)
        assert [m.todos[0]["title"] for m in got] == ["drawn first", "drawn second"]
        assert got[0].id < got[1].id
        await add(live_client, "next")
        assert (await sse.event()).todos[0]["title"] == "next"  # no duplicate came


async def test_the_feeds_read_does_not_scan_the_table(pg_server: str) -> None:
    """The feed reads the table at every change (paced under load); with a day of events
    kept, what a read touches must not grow with their number. It scanned every event once
    per event returned (31,000 buffers at 30,000 events; now a few index pages)."""
    with pg.scratch_database(pg_server, "feedscan") as url:
        pg.in_thread(migrate.upgrade)(url)
        conn = await asyncpg.connect(pg.plain(url))
        try:
            await conn.execute(
                "INSERT INTO events (kind) SELECT 'kept' FROM generate_series(1, 30000)"
            )
            await conn.execute("ANALYZE events")
            newest = await event_store.newest_final(conn)
            behind = event_store.Position(newest.xid, newest.id - 100)
            assert len((await event_store.final_after(conn, behind, 100)).events) == 100
            plan = await conn.fetchval(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + event_store._FINAL, *behind, 100
            )
        finally:
            await conn.close()
    top = orjson.loads(plan)[0]["Plan"]
    assert top["Shared Hit Blocks"] + top["Shared Read Blocks"] < 100, top


def test_the_pace_of_a_busy_feed_is_events_pace_from_a_thousand_streams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EVENTS_PACE (an operator's trade of the worker's CPU against the events' delay) is
    the gap between reads at 1,000 streams and more; fewer streams, proportionally less (a
    lone stream's events are not held back for the sake of 1,000)."""
    monkeypatch.setenv("EVENTS_PACE", "0.25")
    events_pace = Settings.from_env().events_pace
    assert events_pace == 0.25
    assert [pace(n, events_pace) for n in (0, 1, 400, 1000, 5000)] == [0, 0.00025, 0.1, 0.25, 0.25]
    assert pace(1000, Settings().events_pace) == 0.1
    for wrong in ("100", "-1", "nan"):  # milliseconds for seconds, a sign, not a number
        monkeypatch.setenv("EVENTS_PACE", wrong)
        with pytest.raises(SystemExit, match="EVENTS_PACE must be between 0 and 5"):
            Settings.from_env()


async def test_a_worker_without_streams_does_not_read_the_changes(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    """Every worker hears every change (NOTIFY); one with no stream open skips the events
    instead of reading them (a read per write per worker, for nobody), and a stream that
    then opens starts after the newest one and gets what follows."""
    quiet = replace(settings, events_heartbeat=3600)  # no heartbeat read during the test
    async with served(quiet) as (app, client):
        await add(client, "first")
        feed = feed_of(app)  # (the app has started: it answered)
        await feed.sync()
        reads, heard = feed.fetches, feed.notified
        last = [await add(client, f"unseen {i}") for i in range(5)][-1]
        await until(lambda: feed.notified >= heard + 5, "the feed heard the five changes")
        assert feed.fetches == reads
        async with stream(client) as sse:
            ready = await sse.ready()
            assert ready.id == await newest_event_id(clean_db)
            await add(client, "seen")
            event = await sse.event()
        assert (event.kind, event.todos[0]["title"]) == ("todos.created", "seen")
        assert last["title"] == "unseen 4"


async def test_a_stream_joining_after_an_unread_change_wakes_the_feed(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    """A change heard while no stream was open is not read; a stream that joins after it
    (between its own sync and its subscription) must not wait for the next heartbeat to get
    it: joining wakes the feed."""
    quiet = replace(settings, events_heartbeat=3600)
    async with served(quiet) as (app, client):
        await add(client, "first")
        feed = feed_of(app)
        await feed.sync()
        reads, heard = feed.fetches, feed.notified
        await add(client, "heard, not read")
        await until(lambda: feed.notified > heard, "the feed heard the change")
        assert feed.fetches == reads
        sub = feed.subscribe(str(ALICE_ID), None, None)  # (as a stream joins, after its sync)
        try:
            await until(lambda: feed.fetches > reads, "joining woke the feed")
        finally:
            feed.unsubscribe(sub)


async def newest_event_id(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT max(id) FROM events"))).scalar_one()


# --- scope, limits, headers ------------------------------------------------------------


async def test_list_id_narrows_the_stream(live_client: httpx.AsyncClient) -> None:
    other = (await live_client.post("/api/lists", json={"name": "Other"})).json()
    async with stream(live_client, {"list_id": other["id"]}) as sse:
        await sse.ready()
        await add(live_client, "elsewhere")
        await add(live_client, "here", list_id=other["id"])
        assert (await sse.event()).todos[0]["title"] == "here"


async def test_the_response_is_an_unbuffered_event_stream(live_client: httpx.AsyncClient) -> None:
    async with stream(live_client) as sse:
        headers = sse.response.headers
        assert headers["content-type"].startswith("text/event-stream")
        assert headers["cache-control"] == "no-cache"
        assert headers["x-accel-buffering"] == "no"
        await sse.ready()


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"since": "-1"}, {}),
        ({"since": "abc"}, {}),
        ({"list_id": "0"}, {}),
        ({"unknown": "1"}, {}),
        ({}, {"Last-Event-ID": "12x"}),
        ({}, {"Last-Event-ID": str(2**63)}),
        ({}, {"Last-Event-ID": "١٢".encode()}),  # digits, but not ASCII ones
    ],
)
async def test_bad_parameters_are_a_422(
    live_client: httpx.AsyncClient, params: dict, headers: dict
) -> None:
    response = await live_client.get("/api/events", params=params, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_unknown_list_is_a_404(live_client: httpx.AsyncClient) -> None:
    response = await live_client.get("/api/events", params={"list_id": 999})
    assert response.status_code == 404


async def test_beyond_max_streams_a_503_with_retry_after(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    async with served(replace(settings, max_streams=2)) as (app, client):
        async with stream(client) as one, stream(client) as two:
            await one.ready()
            await two.ready()
            refused = await client.get("/api/events")
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["type"] == "urn:todoapp:problem:unavailable"
        await until(lambda: feed_of(app).streams == 0, "both streams were released")
        async with stream(client) as three:
            await three.ready()


async def test_in_flight_cap_and_request_timeout_leave_streams_alone(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    """Streams outlive REQUEST_TIMEOUT and do not count against MAX_IN_FLIGHT."""
    tight = replace(settings, max_in_flight=1, request_timeout=1, events_heartbeat=0.3)
    async with served(tight) as (_, client), stream(client) as sse, stream(client) as other:
        await sse.ready()
        await other.ready()
        for _ in range(5):  # keep-alives every 0.3 s: past the 1 s deadline
            assert (await sse.next()).kind == "comment"
        await add(client, "still served")  # the cap of 1 is not taken by streams
        assert (await sse.event()).todos[0]["title"] == "still served"


async def test_idle_streams_hold_no_database_connection(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    async with served(replace(settings, db_pool_size=2)) as (app, client):
        streams = [stream(client) for _ in range(8)]
        opened = [await s.__aenter__() for s in streams]
        try:
            for sse in opened:
                await sse.ready()
            assert app.extensions["db_engine"].pool.checkedout() == 0
            await add(client, "with 8 streams open and a pool of 2")
            for sse in opened:
                assert (await sse.event()).kind == "todos.created"
        finally:
            for s in streams:
                await s.__aexit__(None, None, None)


async def test_streams_that_end_early_are_all_released(
    live_app_: Quart, live_server: str, clean_db: AsyncEngine
) -> None:
    feed = feed_of(live_app_)
    async with httpx.AsyncClient(base_url=live_server, headers=AUTH_HEADERS) as client:
        for _ in range(10):
            async with client.stream("GET", "/api/events") as response:
                assert response.status_code == 200  # closed before reading anything
    await until(lambda: feed.streams == 0, "every stream was released")


# --- the listener --------------------------------------------------------------------


async def test_the_listener_reconnects_after_its_connection_is_killed(
    live_app_: Quart, clean_db: AsyncEngine, live_client: httpx.AsyncClient
) -> None:
    feed = feed_of(live_app_)
    kill = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'todoapp-listener' AND datname = current_database()"
    )
    async with stream(live_client) as sse:
        await sse.ready()
        async with clean_db.connect() as conn:
            assert (await conn.execute(kill)).scalar() is True
            await conn.commit()
        # Written while no listener is connected: delivered from the table once it is back.
        await add(live_client, "while the listener was down")
        event = await sse.event()
        assert event.todos[0]["title"] == "while the listener was down"
        await until(feed.connected.is_set, "the listener is connected again")
        await add(live_client, "after the reconnect")
        assert (await sse.event()).todos[0]["title"] == "after the reconnect"


async def test_a_heartbeat_comment_keeps_an_idle_stream_open(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    fast_beat = replace(settings, events_heartbeat=0.05)
    async with served(fast_beat) as (_, client), stream(client) as sse:
        await sse.ready()
        comment = await sse.next()
        assert comment.kind == "comment" and comment.data == "keep-alive"


async def test_a_slow_consumer_is_dropped_with_a_reset_and_others_get_everything(
    settings: Settings, clean_db: AsyncEngine
) -> None:
    """One client stops reading. Once the kernel's buffers are full, its queue passes
    EVENTS_QUEUE: it gets `reset` and its stream ends, while a reading client receives every
    event, in order."""
    async with served(replace(settings, events_queue=200)) as (app, client):
        todo = await add(client, "x" * 500)  # big events fill the buffers sooner
        feed = feed_of(app)  # (the app has started: it answered)
        burst = text(  # one transaction of 1,000 statements: 1,000 events
            "DO $$ BEGIN FOR i IN 1..1000 LOOP "
            f"UPDATE todos SET version = version + 1 WHERE id = {todo['id']}; "
            "END LOOP; END $$"
        )
        async with stream(client) as fast:
            await fast.ready()
            slow = await SlowClient.open(str(client.base_url))
            await until(lambda: len(feed.subscriptions) == 2, "both streams are open")
            version = 1
            for _ in range(20):  # the kernel buffers a few MB: bursts until it is dropped
                async with clean_db.begin() as conn:
                    await conn.execute(burst)
                for _ in range(1000):
                    version += 1
                    assert (await fast.event()).todos[0]["version"] == version
                if len(feed.subscriptions) == 1:
                    break
            assert len(feed.subscriptions) == 1, "the slow stream was never dropped"
            tail = await slow.read_to_end()
            last = tail[tail.rindex("event: ") :]
            assert last.startswith("event: reset")
            assert '"reason":"too far behind"' in last


class SlowClient:
    """A raw socket with a tiny receive buffer that reads only when told to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> SlowClient:
        import socket

        host, port = url.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**16)
        request = (
            f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
            f"Authorization: {AUTH_HEADERS['Authorization']}\r\n\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        return cls(reader, writer)

    async def read_to_end(self) -> str:
        data = await asyncio.wait_for(self.reader.read(-1), 60)
        self.writer.close()
        return data.decode()


@pytest.fixture
def live_app_(live_app: Quart) -> Quart:
    """The session's live server app (named apart from servers.live_app, the factory)."""
    return live_app
