"""The worker's feed: one LISTEN connection that reads new events and hands them to every
open stream of the worker, in memory.

Ids that commit out of order. Event ids come from a sequence, drawn when the event is
written, but transactions commit in their own order: while event 41's transaction is still
running, event 42's may already be committed. A reader that delivered 42 and remembered
"up to 42" would never deliver 41. So the feed does not deliver in id order: every event
records the id of its transaction (`xid`, from pg_current_xact_id()), and the feed delivers
in (xid, id) order only the events whose transaction is older than the oldest transaction
still running (`pg_snapshot_xmin(pg_current_snapshot())`). Every transaction older than
that one has ended, and any transaction that could still write an event has a larger xid
(a running one's is at least xmin, a future one's larger still), so nothing can ever appear
before an event once it is delivered: no gaps, and no duplicates.

(Holding back past a gap in the ids until it fills or a timeout passes, the other way,
loses an event whenever its transaction takes longer than the timeout, and waits the whole
timeout for every rolled-back id. This rule never guesses.)

The price: a transaction that stays open holds back the events of younger ones (not the
writes themselves) until it ends. The app's own are short (DB_STATEMENT_TIMEOUT_MS bounds
each statement); while events are held back, the feed looks again after 20 ms, backing off to
1 s, because an ending transaction without events of its own sends no NOTIFY. Ids therefore
reach a client in commit order, which is not always numeric order: clients resume from the
last id they received (what EventSource's Last-Event-ID is), and compare `version`s.

The connection is dedicated (asyncpg's pool would UNLISTEN it on release). NOTIFY only
wakes the feed; what to deliver comes from the table, so a lost connection loses nothing:
the feed reconnects with a backoff and catches up from where it was. Every heartbeat tick
it also reads the table (in case a notification was missed), sends the streams their
keep-alive and prunes expired events (EVENTS_RETENTION).

Fan-out: each read hands every subscription the events of its batch that its user may
receive (the event's audience names them: data/events.py), of its list if it has one: picked
out once for all the subscriptions that want the same. If there are any, it wakes its stream
(the body running in live/handoff.py) with a bare future; a stream with nothing new is not
woken. A wake-up costs far more than the events it carries, so when changes come fast the
reads are paced (EVENTS_PACE apart from 1,000 open streams on, less below): each wake-up then
carries a batch, and a stream's frames are joined once per batch for all the streams of its
user that send the same one (api/events.py). The wake-ups go out in slices of WAKE_SLICE
streams, with the event loop's turn in between: the woken streams send, and the requests
that arrived meanwhile are served, instead of waiting behind 1,000 sends. A stream that falls
EVENTS_QUEUE events behind (its client reads too slowly) is dropped from the fan-out at once;
nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from contextlib import suppress
from typing import TypeVar

import asyncpg

from ..data import events
from ..data.events import Position, Stored
from ..runtime.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 100  # events read per query: a stream never lags by much more than one batch
PRUNE_BATCH = 1000  # events deleted per statement
PRUNE_ROUNDS = 20  # statements per heartbeat tick at most: delivery goes on in between
REPOLL_FIRST, REPOLL_MAX = 0.02, 1.0  # seconds, while events are held back
PACED_AT = 1000  # open streams from which reads are EVENTS_PACE apart (see pace)
WAKE_SLICE = 50  # subscriptions offered a batch between two turns of the event loop
RECONNECT_FIRST, RECONNECT_MAX = 0.1, 5.0  # seconds, after the connection was lost


class Full(Exception):
    """No stream can join: MAX_STREAMS are open in this worker, or it is shutting down. The
    message is for the client."""


class Subscription:
    """A stream's place in the fan-out: the events it has still to send, bounded.

    Waking it is a bare future's result (no asyncio.Event: at 1,000 streams, what a wake-up
    costs is most of what an event costs)."""

    __slots__ = (
        "after",
        "beat",
        "closed",
        "limit",
        "list_id",
        "overflowed",
        "pending",
        "waiter",
        "who",
    )

    def __init__(self, who: str, list_id: int | None, after: Position | None, limit: int) -> None:
        self.who = who  # the user, as events' audiences name them: only their events come
        self.list_id = list_id
        # A client ahead of this worker's feed: its events up to here are skipped.
        self.after = after
        self.limit = limit
        self.pending: list[Stored] = []
        self.waiter: asyncio.Future[None] | None = None
        self.beat = self.overflowed = self.closed = False

    @property
    def wants(self) -> tuple[str, int | None]:
        """Which events of a batch it takes: its user's, of its list (all when None). The
        feed picks them out once for every subscription that wants the same."""
        return self.who, self.list_id

    def offer(self, mine: list[Stored]) -> bool:
        """Queue the events of a batch it wants (see `wants`); False (and no more
        events) when it fell too far behind."""
        if self.after is not None:
            mine = [e for e in mine if e.position > self.after]
            if mine:
                self.after = None  # what comes later is later still
        if not mine:
            return True  # nothing for it: not even woken
        self.pending += mine
        if len(self.pending) > self.limit:
            self.pending = []  # its memory goes now; the stream sends `reset` and ends
            self.overflowed = True
        self._wake()
        return not self.overflowed

    def heartbeat(self) -> None:
        self.beat = True
        self._wake()

    def close(self) -> None:
        """The stream ends: its client left, or the server shuts down."""
        self.closed = True
        self._wake()

    def take(self) -> list[Stored]:
        batch, self.pending = self.pending, []
        return batch

    async def wait(self) -> None:
        """Until there is something to do: events, a heartbeat, an end."""
        if self.pending or self.beat or self.closed or self.overflowed:
            return
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


def pace(streams: int, events_pace: float) -> float:
    """Seconds between two reads of a busy feed with `streams` open: EVENTS_PACE from
    PACED_AT streams on, proportionally less below (the fan-out's CPU grows with the streams
    woken per read). What it trades (docs/benchmarks.md, "Live feed"): at 1,000 streams each
    read costs some 15-25 ms of the worker's CPU, whatever it carries, and an event waits up
    to the pace before its read."""
    return events_pace * min(streams, PACED_AT) / PACED_AT


def picked(batch: list[Stored], who: str, list_id: int | None) -> list[Stored]:
    """The events of the batch for `who`'s streams of `list_id` (None: of every list)."""
    return [e for e in batch if who in e.audience and (list_id is None or e.list_id == list_id)]


class Feed:
    """The worker's listener and fan-out (one per worker process)."""

    def __init__(self, dsn: str, settings: Settings) -> None:
        self.dsn = dsn
        self.settings = settings
        self.position: Position | None = None  # everything up to here has been handed out
        self.subscriptions: set[Subscription] = set()
        self.streams = 0  # open streams (a subscription lives a little less than its stream)
        self.ready = asyncio.Event()  # the position is known
        self.connected = asyncio.Event()
        self.closing = False
        self.fetches = 0  # reads of the table done
        self.notified = 0  # NOTIFYs received
        self._unread = False  # a NOTIFY came since the last read began, and woke nobody
        self._reads_started = 0
        self._read_done = asyncio.Event()  # replaced after each read
        self._wake = asyncio.Event()
        self._lost = False
        self._tick = False  # a heartbeat tick is due: prune
        self._last_read = 0.0  # loop time of the last read (see _pace)
        self._tasks: list[asyncio.Task[None]] = []

    # --- streams ----------------------------------------------------------------------

    def subscribe(self, who: str, list_id: int | None, after: Position | None) -> Subscription:
        """Join the fan-out at the current position; the events for `who` (of `list_id`)
        after it (and after `after`, when the client is ahead of this worker) come through
        the subscription."""
        if self.closing or self.position is None:
            raise Full("This server is shutting down; reconnect shortly.")
        if self.streams >= self.settings.max_streams:
            raise Full("Too many event streams are open here; retry shortly.")
        ahead = after if after is not None and after > self.position else None
        sub = Subscription(who, list_id, ahead, self.settings.events_queue)
        self.subscriptions.add(sub)
        self.streams += 1
        if self._unread:  # changes it may not have been handed (it joined after its sync)
            self._wake.set()
        return sub

    async def sync(self) -> None:
        """Return once the feed has read the table after this call: every event final by
        then has been handed out. (Waits for a reconnection, if one is going on.)"""
        target = self._reads_started + 1
        self._wake.set()
        while self.fetches < target:
            await self._read_done.wait()

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscriptions.discard(sub)  # (gone already if it fell behind)
        self.streams -= 1

    def end_streams(self) -> None:
        """Graceful shutdown: every stream ends now (its client reconnects elsewhere) and no
        new one starts."""
        self.closing = True
        for sub in self.subscriptions:
            sub.close()
        self.subscriptions.clear()

    async def _publish(self, batch: list[Stored]) -> None:
        subscriptions = list(self.subscriptions)
        wanted: dict[tuple[str, int | None], list[Stored]] = {}
        for start in range(0, len(subscriptions), WAKE_SLICE):
            if start:
                await asyncio.sleep(0)  # the woken streams send; requests get their turn
            for sub in subscriptions[start : start + WAKE_SLICE]:
                mine = wanted.get(sub.wants)
                if mine is None:
                    mine = wanted[sub.wants] = picked(batch, *sub.wants)
                if sub not in self.subscriptions or sub.offer(mine):
                    continue  # (gone during an earlier slice, or took the batch)
                log.warning("an event stream fell %d events behind: reset", sub.limit)
                self.subscriptions.discard(sub)

    def _heartbeat(self) -> None:
        for sub in self.subscriptions:
            sub.heartbeat()

    # --- the listening connection -----------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="todoapp-feed"),
            asyncio.create_task(self._ticks(), name="todoapp-feed-ticks"),
        ]

    async def close(self) -> None:
        self.end_streams()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self) -> None:
        """Connect, serve, and on any failure start again after a growing pause: the feed
        must outlive a restarted database, a killed connection, and its own bugs."""
        delay = RECONNECT_FIRST
        while not self.closing:
            try:
                conn = await self._connect()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
                log.warning("event listener cannot connect (%s); retrying", e)
            else:
                delay = RECONNECT_FIRST
                try:
                    await self._serve(conn)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                    log.warning("event listener lost its connection; reconnecting")
                except Exception:
                    log.exception("event listener failed; restarting it")
                finally:
                    self.connected.clear()
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    async def _connect(self) -> asyncpg.Connection:
        s = self.settings
        conn = await asyncpg.connect(
            self.dsn,
            timeout=s.db_connect_timeout,
            command_timeout=s.db_statement_timeout_ms / 1000 + 5,
            server_settings={
                "application_name": "todoapp-listener",
                "statement_timeout": str(s.db_statement_timeout_ms),
            },
        )
        self._lost = False
        conn.add_termination_listener(self._on_lost)
        await conn.add_listener(events.CHANNEL, self._on_notify)  # before the first read
        if self.position is None:
            self.position = await events.newest_final(conn)
        self.ready.set()
        self.connected.set()
        return conn

    def _on_notify(self, *_: object) -> None:
        self.notified += 1
        if self.subscriptions:
            self._wake.set()
        else:  # nobody waits for it; a stream that joins before the next read wakes the feed
            self._unread = True

    def _on_lost(self, *_: object) -> None:
        self._lost = True
        self._wake.set()

    async def _serve(self, conn: asyncpg.Connection) -> None:
        """Read, hand out, wait for a NOTIFY or a tick; until the connection fails."""
        repoll = REPOLL_FIRST
        while True:
            await self._pace()
            self._wake.clear()  # before reading: a NOTIFY during the read wakes us again
            held_back = await self._catch_up(conn)
            if self._lost:
                raise asyncpg.InterfaceError("the listening connection was terminated")
            if self._tick:
                self._tick = False
                await self._prune(conn)
            if not held_back:
                repoll = REPOLL_FIRST
                await self._wake.wait()
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), repoll)
            repoll = min(repoll * 2, REPOLL_MAX)

    async def _ticks(self) -> None:
        """Every EVENTS_HEARTBEAT: a keep-alive for every stream (also while the database is
        away), and a read of the table and a prune by the feed."""
        while True:
            await asyncio.sleep(self.settings.events_heartbeat)
            self._heartbeat()
            self._tick = True
            self._wake.set()

    async def _pace(self) -> None:
        """Under a stream of changes, read at most once per `pace`: each read wakes every
        stream, and a wake-up costs far more than the events it carries, so events come in
        batches when they come fast. A change after a quiet moment is read at once."""
        loop = asyncio.get_running_loop()
        gap = pace(len(self.subscriptions), self.settings.events_pace)
        wait = self._last_read + gap - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_read = loop.time()

    async def _catch_up(self, conn: asyncpg.Connection) -> bool:
        """Hand out every final event after the position; True if some are held back."""
        assert self.position is not None
        if not self.subscriptions and await self._skip_ahead(conn):
            return False
        while True:
            batch = await self._read(events.final_after(conn, self.position, BATCH))
            if batch.events:
                self.position = batch.events[-1].position
                await self._publish(batch.events)
            if len(batch.events) < BATCH:
                return batch.held_back

    async def _skip_ahead(self, conn: asyncpg.Connection) -> bool:
        """With no stream to hand them to, the events are not read: the position moves to
        the newest final one (a worker without streams costs the writes nothing, and a
        stream joins at once, however long the worker was without any). False if a stream
        joined meanwhile: it needs the events after the position it joined at."""
        newest = await self._read(events.newest_final(conn))
        if self.subscriptions:
            return False
        assert self.position is not None
        self.position = max(self.position, newest)
        return True

    async def _read(self, query: Awaitable[T]) -> T:
        """A read of the table, counted for sync()."""
        self._reads_started += 1
        self._unread = False
        result = await query
        self.fetches += 1
        done, self._read_done = self._read_done, asyncio.Event()
        done.set()
        return result

    async def _prune(self, conn: asyncpg.Connection) -> None:
        retention = self.settings.events_retention
        for _ in range(PRUNE_ROUNDS):
            if await events.prune(conn, retention, PRUNE_BATCH) < PRUNE_BATCH:
                return
            await self._catch_up(conn)  # deliveries go on between the batches
