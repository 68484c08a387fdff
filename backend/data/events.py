"""The change feed's table: reads for delivery and resumption; retention.

Triggers write the events (migration 0006); nothing here does. Each event names its
audience: who could see its list when it was written, with their role; a stream sends it to
them only. The order of delivery is (xid, id), and only events of transactions older than
every running one are final: why, in backend/live/feed.py. The feed's own queries run on its
dedicated asyncpg connection (outside any request); a stream's history is read for its
actor, on a connection borrowed for one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg
import orjson
from sqlalchemy import Text, cast, exists, func, literal_column, select, tuple_

from ..domain.actor import Actor
from .db import Work
from .models import Event, TodoList
from .scope import visible_lists

events = Event.__table__
lists = TodoList.__table__

CHANNEL = "todoapp_events"  # what the triggers NOTIFY
# Taken (for one statement) by whichever worker prunes, so that two do not delete the same
# rows; the others skip their turn.
_PRUNE_LOCK = 0x11E7E


class Position(NamedTuple):
    """A place in the feed: after the event (xid, id); (0, 0) is before the first."""

    xid: int
    id: int


START = Position(0, 0)


@dataclass(slots=True)
class Stored:
    """An event as the table holds it."""

    id: int
    xid: int
    kind: str
    list_id: int | None
    payload: dict[str, Any]
    at: str  # ISO 8601, as the API writes times
    audience: dict[str, str]  # user id (as text) -> role: who may receive it
    # Its SSE frame per (base URL, role in a list's state), made by the first stream that
    # sends it and shared by all the others of the worker (one render per event, not one
    # per stream).
    frames: dict[tuple[str, str | None], bytes] = field(default_factory=dict)
    position: Position = START  # (xid, id), set once: compared for every stream

    def __post_init__(self) -> None:
        self.position = Position(self.xid, self.id)


def _stored(row: Any) -> Stored:
    e = orjson.loads(row["event"])  # the row as JSON text: one parse, no per-column codecs
    audience = e["audience"] or {}
    return Stored(
        e["id"], e["xid"], e["kind"], e["list_id"], e["payload"], e["created_at"], audience
    )


# --- the feed's connection -----------------------------------------------------------------

# The oldest running transaction's xid, and whether any event is of it or younger (held
# back): the newest event's xid, one step down the (xid, id) index. Computed once per read;
# as EXISTS (... WHERE xid >= xmin) in the select list it was a sequential scan of the whole
# table per row returned.
_FINAL = """
WITH snapshot AS MATERIALIZED (
    SELECT x.xmin, COALESCE((SELECT max(xid) FROM events) >= x.xmin, false) AS held_back
    FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) x
)
SELECT s.xmin, s.held_back, to_jsonb(e)::text AS event
FROM snapshot s
LEFT JOIN LATERAL (
    SELECT * FROM events WHERE (xid, id) > ($1, $2) AND xid < s.xmin ORDER BY xid, id LIMIT $3
) e ON true
"""


class Batch(NamedTuple):
    events: list[Stored]
    # Committed events of transactions younger than a running one: not final yet.
    held_back: bool


async def final_after(conn: asyncpg.Connection, after: Position, limit: int) -> Batch:
    """The next events after `after` whose transactions are older than every running one,
    in (xid, id) order; no later-committing transaction can add one before them."""
    rows = await conn.fetch(_FINAL, after.xid, after.id, limit)
    found = [_stored(r) for r in rows if r["event"] is not None]
    return Batch(found, bool(rows[0]["held_back"]))


async def newest_final(conn: asyncpg.Connection) -> Position:
    """Where a starting feed begins: the last event no running transaction can precede."""
    row = await conn.fetchrow(
        "SELECT xid, id FROM events "
        "WHERE xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint "
        "ORDER BY xid DESC, id DESC LIMIT 1"
    )
    return START if row is None else Position(row["xid"], row["id"])


_PRUNE = """
WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($3) AS ok),
head AS (
    SELECT id, xid, bool_and(created_at < now() - make_interval(secs => $1))
                    OVER (ORDER BY xid, id) AS all_old
    FROM (SELECT id, xid, created_at FROM events WHERE (SELECT ok FROM lock)
          ORDER BY xid, id LIMIT $2) first
),
newest AS (SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1)
DELETE FROM events e USING head h
WHERE e.id = h.id AND h.all_old AND (h.xid, h.id) < (SELECT xid, id FROM newest)
RETURNING e.id
"""


async def prune(conn: asyncpg.Connection, retention_s: float, batch: int) -> int:
    """Delete up to `batch` of the oldest events older than the retention, as a prefix in
    delivery order and never the newest (a resume must name an event that exists). One
    short statement: writers only insert, so they never wait for it. Returns the count."""
    return len(await conn.fetch(_PRUNE, retention_s, batch, _PRUNE_LOCK))


# --- a stream's unit of work ---------------------------------------------------------------


async def position_of(work: Work, event_id: int) -> Position | None:
    """The position of an event a client names (Last-Event-ID); None once pruned."""
    row = await work.row(select(events.c.xid, events.c.id).where(events.c.id == event_id))
    return None if row is None else Position(row["xid"], row["id"])


def audience_key(actor: Actor) -> str:
    """How an event's audience names the actor."""
    return str(actor.user_id)


async def between(
    work: Work, after: Position, upto: Position, list_id: int | None, limit: int
) -> list[Stored]:
    """Up to `limit` of the events for the actor after `after` and up to `upto`, in
    delivery order."""
    key = tuple_(events.c.xid, events.c.id)
    as_json = cast(func.to_jsonb(literal_column("events")), Text).label("event")
    stmt = (
        select(as_json)
        .where(key > tuple_(*after), key <= tuple_(*upto))
        .where(events.c.audience.has_key(audience_key(work.actor)))
        .order_by(events.c.xid, events.c.id)
        .limit(limit)
    )
    if list_id is not None:
        stmt = stmt.where(events.c.list_id == list_id)
    return [_stored(r) for r in await work.rows(stmt)]


async def list_visible(work: Work, list_id: int) -> bool:
    condition = exists().where(lists.c.id == list_id, *visible_lists(work.actor))
    return bool(await work.scalar(select(condition)))
