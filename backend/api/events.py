"""GET /api/events: the live change feed as Server-Sent Events.

A stream starts with `retry:`, then (when resuming) the events after the client's
Last-Event-ID or `?since=` read from the table, a `ready` event whose id is where the live
part begins, and then every new event the actor may see, as the worker's feed hands them
out (backend/live). An id the table no longer holds (older than EVENTS_RETENTION) gets a
`reset` first: the client refetches. Between events a comment every EVENTS_HEARTBEAT keeps
proxies from closing the connection. An idle stream holds no database connection: the
history and the scope checks each borrow one briefly.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import datetime
from typing import Any

import orjson
from quart import Blueprint, Response, request, stream_with_context

from .. import live
from ..data import db, events
from ..data.events import Position, Stored
from ..domain import actor as actors
from ..domain.schemas import EventQuery, StreamEvent
from ..edge.problems import Problem, unavailable
from ..live.feed import Feed, Full, Subscription
from ..live.scoping import Scopes, Visibility
from . import validation
from .common import answers, not_found
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
    wait = feed.settings.db_connect_timeout
    try:
        await asyncio.wait_for(feed.ready.wait(), wait)
    except TimeoutError:
        raise unavailable("The live feed is not connected yet; retry shortly.") from None
    # `ready` is then at or after every change committed before this request (unless the
    # feed is reconnecting: then it is not worth a wait).
    with suppress(TimeoutError):
        async with asyncio.timeout(wait):
            await feed.sync()
    async with db.transaction() as work:
        if query.list_id is not None and not await events.list_visible(work, query.list_id):
            raise not_found("list", query.list_id)
        resume = None if since is None else await events.position_of(work, since)
    actor = actors.current()
    scope = await live.scopes().enter(actor.key, _visible_lists, feed.position or events.START)
    try:
        upto = feed.position or events.START
        sub = feed.subscribe(query.list_id, resume)
    except Full:
        live.scopes().leave(actor.key, scope)
        raise unavailable("Too many event streams are open; retry shortly.") from None
    stream = Stream(sub, scope, query.list_id, upto)
    body = stream.body(expired=since is not None and resume is None, resume=resume)
    response = Response(body, content_type="text/event-stream", headers=HEADERS)
    response.timeout = None  # no RESPONSE_TIMEOUT: it lasts as long as the client stays
    return response


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


async def _visible_lists() -> set[int] | None:
    async with db.statement() as work:
        return await events.visible_list_ids(work)


class Stream:
    """One client's stream: history, then live events, each as an SSE frame."""

    def __init__(
        self, sub: Subscription, scope: Visibility, list_id: int | None, upto: Position
    ) -> None:
        self.sub, self.scope, self.list_id, self.upto = sub, scope, list_id, upto
        self.host = request.host_url
        self.todos_base, self.lists_base = TODOS.base_url(), LISTS.base_url()
        # Leaves the fan-out when the body ends, or when the stream is dropped without its
        # body ever starting (a client gone before the first byte): once either way.
        self.release = weakref.finalize(
            self, _release, live.feed(), sub, live.scopes(), actors.current().key, scope
        )

    def body(self, *, expired: bool, resume: Position | None) -> AsyncIterator[bytes]:
        @stream_with_context  # the request's context (the actor, the app) in the generator
        async def generate() -> AsyncIterator[bytes]:
            try:
                yield f"retry: {RETRY_MS}\n\n".encode()
                if expired:
                    yield frame("reset", self.upto.id, {"reason": "expired"})
                elif resume is not None and resume < self.upto:
                    async for chunk in self._history(resume):
                        yield chunk
                start = self.upto if resume is None else max(resume, self.upto)
                yield frame("ready", start.id, {"id": start.id})
                async for chunk in self._live():
                    yield chunk
            finally:
                self.release()

        return generate()

    async def _history(self, after: Position) -> AsyncIterator[bytes]:
        """The events after the client's id up to where the live part starts, a page at a
        time, each page on a connection borrowed for one query."""
        while after < self.upto:
            async with db.statement() as work:
                page = await events.between(work, after, self.upto, self.list_id, HISTORY_PAGE)
            if page:
                yield await self._frames(page)
            if len(page) < HISTORY_PAGE:
                return
            after = page[-1].position

    async def _live(self) -> AsyncIterator[bytes]:
        sub = self.sub
        while True:
            await sub.wait()
            if sub.closed:
                return  # the server is shutting down: the client reconnects elsewhere
            if sub.overflowed:
                position = live.feed().position or self.upto
                yield frame("reset", position.id, {"reason": "too far behind"})
                return
            chunk = await self._frames(_drain(sub))
            if not chunk and sub.beat:
                chunk = b": keep-alive\n\n"
            sub.beat = False
            if chunk:
                yield chunk

    async def _frames(self, batch: list[Stored]) -> bytes:
        frames = [
            self._frame(event) for event in batch if await self.scope.allows(event, _visible_lists)
        ]
        return b"".join(frames)

    def _frame(self, event: Stored) -> bytes:
        cached = event.frames.get(self.host)
        if cached is None:
            cached = event.frames[self.host] = frame(event.kind, event.id, self._body(event))
        return cached

    def _body(self, event: Stored) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": event.id,
            "kind": event.kind,
            "list_id": event.list_id,
            "at": datetime.fromisoformat(event.at),
            **event.payload,
        }
        if "todos" in body:
            body["todos"] = [TODOS.body(_times(state), self.todos_base) for state in body["todos"]]
        if "list" in body:
            body["list"] = LISTS.body(_times(body["list"]), self.lists_base)
        return body


def _times(state: dict[str, Any]) -> dict[str, Any]:
    """The row as the table's JSON has it, with its times as datetimes again: written by
    orjson, they read exactly as in the API's responses (PostgreSQL's JSON drops trailing
    zeros of the fraction)."""
    return {
        name: datetime.fromisoformat(value) if name in TIME_COLUMNS else value
        for name, value in state.items()
    }


def _release(feed: Feed, sub: Subscription, scopes: Scopes, key: str, scope: Visibility) -> None:
    feed.unsubscribe(sub)
    scopes.leave(key, scope)


def _drain(sub: Subscription) -> list[Stored]:
    batch = list(sub.pending)
    sub.pending.clear()
    return batch


def frame(kind: str, event_id: int, data: dict[str, Any]) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, kind.encode(), orjson.dumps(data))
