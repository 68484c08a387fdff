"""The tables, as SQLAlchemy 2 declarative models. Constraints live in the database too."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..domain.limits import NAME_MAX, NOTES_MAX, TITLE_MAX

# English stemming: "groceries" and "grocery" find each other.
SEARCH_CONFIG = "english"


class Base(DeclarativeBase):
    pass


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


def length_between_1_and(limit: int, column: str, name: str) -> CheckConstraint:
    """Text that is not empty once trimmed and at most `limit` characters long."""
    return CheckConstraint(f"char_length(btrim({column})) BETWEEN 1 AND {limit}", name=name)


class Versioned:
    # Raised by every change; the ETag, and what If-Match compares (optimistic concurrency).
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))


class Trashable:
    # Set by DELETE: the row is in the trash, invisible (data/scope.py), restorable for a
    # while and then purged (data/trash.py). An undo after a reload or from another device
    # needs the data on the server, not in a browser tab.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def in_trash(table: str) -> Index:
    """The purge finds old trash without scanning the live rows."""
    return Index(
        f"ix_{table}_deleted_at", "deleted_at", postgresql_where=text("deleted_at IS NOT NULL")
    )


# Sorting by due date puts todos without one last, in both directions: the sort key is the
# date with a missing one read as +infinity (ascending) or -infinity (descending).
DUE_LAST = text("'infinity'::date")
DUE_LAST_DESC = text("'-infinity'::date")


class TodoList(Timestamps, Versioned, Trashable, Base):
    __tablename__ = "todo_lists"
    __table_args__ = (
        length_between_1_and(NAME_MAX, "name", "todo_lists_name_check"),
        # Unique among the lists not in the trash: a deleted list's name is free at once.
        Index(
            "todo_lists_name_key",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        in_trash("todo_lists"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    # The highest position handed out in this list. Appending bumps it in the same statement
    # as the INSERT, so concurrent appends queue on this row and never share a position.
    last_position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))


class Todo(Timestamps, Versioned, Trashable, Base):
    __tablename__ = "todos"
    __table_args__ = (
        length_between_1_and(TITLE_MAX, "title", "todos_title_check"),
        # A list's order is a permutation: no two todos share a position. Deferred to commit,
        # so one UPDATE can renumber todos whose new positions are each other's old ones.
        UniqueConstraint(
            "list_id",
            "position",
            name="todos_list_id_position_key",
            deferrable=True,
            initially="DEFERRED",
        ),
        Index("ix_todos_search", "search", postgresql_using="gin"),
        # Keyset pagination over all lists, for each sort key.
        Index("ix_todos_position_id", "position", "id"),
        Index("ix_todos_created_at_id", "created_at", "id"),
        Index("ix_todos_updated_at_id", "updated_at", "id"),
        Index("ix_todos_due_id", func.coalesce(text("due"), DUE_LAST), "id"),
        Index("ix_todos_due_desc_id", func.coalesce(text("due"), DUE_LAST_DESC), "id"),
        CheckConstraint(f"char_length(notes) <= {NOTES_MAX}", name="todos_notes_check"),
        in_trash("todos"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("todo_lists.id", ondelete="CASCADE", name="todos_list_id_fkey"),
        nullable=False,
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    completed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    # A calendar date, no time zone: "due on the 3rd" means the 3rd wherever the user is.
    due: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)  # plain text, shown with the todo
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed(f"to_tsvector('{SEARCH_CONFIG}', title)", persisted=True)
    )


class IdempotencyKey(Base):
    """A POST's Idempotency-Key and the response it got, written in the POST's transaction."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(Text, primary_key=True)  # "POST /api/todos"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text, nullable=False)  # sha256 of the JSON body
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    )


class Event(Base):
    """A committed change, written by triggers in the changing transaction (migration 0003;
    what the columns mean for delivery: backend/live/feed.py)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_xid_id", "xid", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The writing transaction's id: the feed delivers in (xid, id) order (see feed.py).
    xid: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("(pg_current_xact_id()::text::bigint)")
    )
    kind: Mapped[str] = mapped_column(Text, nullable=False)  # "todos.updated", "list.deleted"
    list_id: Mapped[int | None] = mapped_column(BigInteger)  # no FK: a deleted list has events
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    )
