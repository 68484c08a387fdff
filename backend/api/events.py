"""GET /api/events: the live change feed as Server-Sent Events.

The route is an ordinary request: it validates, checks the list and the resume point,
joins the worker's fan-out (backend/live) and answers the response's head, with the request
id, CORS and metrics of any request. The body then runs on the server's connection, after
the request has ended (live/handoff.py): the web framework's tasks and objects are gone, so
an open stream costs little memory, no slot of MAX_IN_FLIGHT and no REQUEST_TIMEOUT.

A body starts with `retry:`, then (when resuming) the events after the client's
Last-Event-ID or `?since=` read from the table, a `ready` event whose id is where the live
part begins, and then every new event the actor may see, as the feed hands them out. An id
the table no longer holds (older than EVENTS_RETENTION) gets a `reset` first: the client
refetches. A comment every EVENTS_HEARTBEAT keeps proxies from closing an idle stream; at
each, the stream checks that its credential still holds, and ends if not. An
idle stream holds no database connection (the history borrows one), and deciding who gets
an event asks the database nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

import orjson
from quart import Blueprint, Quart, Response, current_app, g, request

from .. import live
from ..data import db, events
from ..data.events import Position, Stored
from ..domain import actor as actors
from ..domain.actor import Actor
from ..domain.schemas import EventQuery, StreamEvent
from ..edge import auth
from ..edge.problems import Problem, unavailable
from ..live.feed import Feed, Full, Subscription
from . import validation
from .common import answers, host_url, not_found
from .lists import LISTS
from .todos import TODOS

bp = Blueprint("events", __name__, url_prefix="/api/events")

HISTORY_PAGE = 500  # events per read while catching up
RETRY_MS = 2000  # how long EventSource waits before it reconnects
TIME_COLUMNS = frozenset({"created_at", "updated_at"})
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
}
# A batch's frames joined, shared by the streams that send the same batch: keyed by (host,
# user, list filter, first id, last id, length), which names a batch in the feed's order and
# what of it the user gets. Cleared when full; it only saves work.
_CHUNKS: dict[tuple[Any, ...], bytes] = {}
CHUNKS_KEPT = 256
# Credential checks at heartbeats at once per worker: they share the connection pool with
# the requests (and the credential cache, so that a user's streams ask once).
_CHECKS = asyncio.Semaphore(2)
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


@bp.get("")
@validation.query(EventQuery)
@answers(StreamEvent, 404, 422, 503, media_type="text/event-stream")
async def stream_events(query: EventQuery) -> Response:
    """The live change feed, as Server-Sent Events.

    Every change to a list or a todo the caller may see, as it commits (the schema below is
    one event). The stream starts with `ready` (its id: where the live part begins); resume
    with `Last-Event-ID` or `since`; a `reset` event means "refetch". A comment line every
    EVENTS_HEARTBEAT seconds keeps idle connections open.
    """
    since = last_event_id(query.since)
    feed = live.feed()
    await _caught_up(feed)
    resume = await _checked(query.list_id, since)
    head = Response(_no_body(), content_type="text/event-stream", headers=HEADERS)
    if request.method == "HEAD":
        return head
    stream = await Stream.open(feed, query.list_id, since, resume)
    request.scope[live.STREAM] = stream  # its body follows the head (live/handoff.py)
    return head


def last_event_id(since: int | None) -> int | None:
    """Last-Event-ID (sent by EventSource when it reconnects) wins over ?since=, which an
    automatic reconnection repeats unchanged."""
    header = request.headers.get("Last-Event-ID")
    if header is None or header == "":
        return since
    if not header.isascii() or not header.isdigit() or int(header) >= 2**63:
        raise Problem(
            422,
            "validation-error",
            "Last-Event-ID is not an event id.",
            [{"header": "Last-Event-ID", "detail": "must be a whole number below 2^63"}],
        )
    return int(header)


async def _caught_up(feed: Feed) -> None:
    """503 while the feed has no position yet; else wait for its next read of the table, so
    that `ready` comes after every change committed before this request (not worth a wait
    while the feed reconnects)."""
    wait = feed.settings.db_connect_timeout
    try:
        await asyncio.wait_for(feed.ready.wait(), wait)
    except TimeoutError:
        raise unavailable("The live feed is not connected yet; retry shortly.") from None
    with suppress(TimeoutError):
        async with asyncio.timeout(wait):
            await feed.sync()


async def _checked(list_id: int | None, since: int | None) -> Position | None:
    """404 for a list the actor cannot see; where a resume starts (None: expired). A plain
    stream asks the database nothing, so a crowd of them does not queue for connections."""
    if list_id is None and since is None:
        return None
    async with db.transaction() as work:
        if list_id is not None and not await events.list_visible(work, list_id):
            raise not_found("list", list_id)
        return None if since is None else await events.position_of(work, since)


async def _no_body() -> AsyncIterator[bytes]:
    """No Content-Length, and nothing sent: the stream's body comes after the request."""
    for chunk in ():
        yield chunk


class Stream:
    """One client's stream: its place in the fan-out, its scope, and its body."""

    def __init__(self, feed: Feed, sub: Subscription, upto: Position, actor: Actor) -> None:
        self.feed, self.sub, self.upto, self.actor = feed, sub, upto, actor
        self.app: Quart = current_app._get_current_object()  # type: ignore[attr-defined]
        self.audience_key = events.audience_key(actor)
        self.credential: tuple[str, bytes] | None = g.get("credential")  # None: AUTH=off
        self.host = host_url()
        self.todos_base, self.lists_base = TODOS.base_url(), LISTS.base_url()
        self.start = [f"retry: {RETRY_MS}\n\n".encode()]  # what the body begins with
        self.resume: Position | None = None
        self.released = False

    @classmethod
    async def open(
        cls, feed: Feed, list_id: int | None, since: int | None, resume: Position | None
    ) -> Stream:
        """Join the fan-out (503 past MAX_STREAMS) at the feed's current position."""
        upto = feed.position or events.START
        actor = actors.current()
        try:
            sub = feed.subscribe(events.audience_key(actor), list_id, resume)
        except Full as full:
            raise unavailable(str(full)) from None
        stream = cls(feed, sub, upto, actor)
        stream.resume = resume
        if since is not None and resume is None:
            stream.start.append(frame("reset", upto.id, {"reason": "expired"}))
        return stream

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.feed.unsubscribe(self.sub)

    async def run(self, send: Send, receive: Receive) -> None:
        """The body, on the server's connection, until the client leaves, the server shuts
        down, or the client falls too far behind."""
        gone = asyncio.ensure_future(_disconnected(receive))
        gone.add_done_callback(lambda _: self.sub.close())
        try:
            await _send(send, b"".join(self.start))
            if self.resume is not None and self.resume < self.upto:
                await self._history(send, self.resume)
            ready = self.upto if self.resume is None else max(self.resume, self.upto)
            await _send(send, frame("ready", ready.id, {"id": ready.id}))
            await self._live(send)
        finally:
            gone.cancel()
            self.release()

    async def _history(self, send: Send, after: Position) -> None:
        """The events after the client's id up to where the live part starts, a page at a
        time, each page on a connection borrowed for one query."""
        while after < self.upto:
            async with db.outside_request(self.app, self.actor) as work:
                page = await events.between(work, after, self.upto, self.sub.list_id, HISTORY_PAGE)
            await _send(send, self._frames(page))
            if len(page) < HISTORY_PAGE:
                return
            after = page[-1].position

    async def _live(self, send: Send) -> None:
        sub = self.sub
        while True:
            await sub.wait()
            if sub.closed:
                return  # the client left, or the server shuts down (clients reconnect)
            if sub.overflowed:
                position = self.feed.position or self.upto
                await _send(send, frame("reset", position.id, {"reason": "too far behind"}))
                return
            beat, sub.beat = sub.beat, False
            if beat and not await self._still_signed_in():
                return  # signed out, token revoked: its reconnection gets a 401
            chunk = self._frames(sub.take())
            if not chunk and beat:
                chunk = b": keep-alive\n\n"
            if chunk:  # (as _send, without a coroutine of its own: this runs per wake-up)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _still_signed_in(self) -> bool:
        """At a heartbeat: does the credential that opened the stream still name its user?
        (Sign-out, a revoked token, a deleted account end a stream within a heartbeat.) A
        failed look-up (the database away) keeps the stream: its events wait in the table."""
        if self.credential is None:
            return True
        try:
            async with _CHECKS, self.app.app_context():
                user_id = await auth.user_of(*self.credential)
        except Exception:
            return True
        return user_id == self.actor.user_id

    def _frames(self, batch: list[Stored]) -> bytes:
        """The frames of the batch's events for this stream's user, joined: made once for
        all the streams of one user that send the same batch."""
        if not batch:
            return b""
        who = self.audience_key
        key = (self.host, who, self.sub.list_id, batch[0].id, batch[-1].id, len(batch))
        chunk = _CHUNKS.get(key)
        if chunk is None:
            if len(_CHUNKS) >= CHUNKS_KEPT:
                _CHUNKS.clear()
            # (the live part's are the user's already: the subscription kept them)
            mine = [(event, event.audience.get(who)) for event in batch]
            chunk = _CHUNKS[key] = b"".join([self._frame(e, role) for e, role in mine if role])
        return chunk

    def _frame(self, event: Stored, role: str) -> bytes:
        """An event's frame, shared by every stream of the worker that sends it with the
        same base URL (and, for a list's state, the same role)."""
        key = (self.host, role if "list" in event.payload else None)
        cached = event.frames.get(key)
        if cached is None:
            cached = event.frames[key] = frame(event.kind, event.id, self._body(event, role))
        return cached

    def _body(self, event: Stored, role: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": event.id,
            "kind": event.kind,
            "list_id": event.list_id,
            "at": datetime.fromisoformat(event.at),
            **event.payload,
        }
        if "todos" in body:
            body["todos"] = [TODOS.body(_times(state), self.todos_base) for state in body["todos"]]
        if "list" in body:  # the recipient's role, as a list's JSON always has it
            state = {**_times(body["list"]), "role": role}
            body["list"] = LISTS.body(state, self.lists_base)
        return body


async def _send(send: Send, chunk: bytes) -> None:
    if chunk:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has gone (the server says so on receive)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _times(state: dict[str, Any]) -> dict[str, Any]:
    """The row as the table's JSON has it, with its times as datetimes again: written by
    orjson, they read exactly as in the API's responses (PostgreSQL's JSON drops trailing
    zeros of the fraction)."""
    return {
        name: datetime.fromisoformat(value) if name in TIME_COLUMNS else value
        for name, value in state.items()
    }


def frame(kind: str, event_id: int, data: dict[str, Any]) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, kind.encode(), orjson.dumps(data))
