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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..domain.limits import (
    NAME_MAX,
    NOTES_MAX,
    TITLE_MAX,
    TOKEN_NAME_MAX,
    USERNAME_MAX,
    USERNAME_MIN,
)

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


class User(Base):
    """An account. The row with id 0 and no username is the implicit user of AUTH=off."""

    __tablename__ = "users"
    __table_args__ = (
        # Unique whatever the case: "Alice" and "alice" are one account.
        Index("users_username_key", text("lower(username)"), unique=True),
        CheckConstraint(
            f"username ~ '^[A-Za-z0-9._-]{{{USERNAME_MIN},{USERNAME_MAX}}}$'",
            name="users_username_check",
        ),
        CheckConstraint("(id = 0) = (username IS NULL)", name="users_implicit_check"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)  # Argon2id; None: cannot log in
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


def _user_fk(name: str) -> ForeignKey:
    # Deleting an account deletes what hangs off it, in the same statement.
    return ForeignKey("users.id", ondelete="CASCADE", name=name)


class Session(Base):
    """A signed-in browser. Only a hash of the cookie's secret is stored."""

    __tablename__ = "sessions"

    secret_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)  # sha256
    user_id: Mapped[int] = mapped_column(
        BigInteger, _user_fk("sessions_user_id_fkey"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # Idle expiry counts from here; refreshed at most once per SESSION_TOUCH_EVERY.
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class AccessToken(Base):
    """A personal access token for scripts. Only a hash of the secret is stored."""

    __tablename__ = "access_tokens"
    __table_args__ = (length_between_1_and(TOKEN_NAME_MAX, "name", "access_tokens_name_check"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, _user_fk("access_tokens_user_id_fkey"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthFailure(Base):
    """One failed (or still running) sign-in or sign-up, per rate-limit key ("user:alice",
    "addr:192.0.2.1"): kept in the database so that every worker counts the same ones."""

    __tablename__ = "auth_failures"
    __table_args__ = (Index("ix_auth_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


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


def unique_outside_trash(name: str, *columns: str) -> Index:
    """A UNIQUE over the rows outside the trash: a deleted row's values are free at once."""
    return Index(name, *columns, unique=True, postgresql_where=text("deleted_at IS NULL"))


# Sorting by due date puts todos without one last, in both directions: the sort key is the
# date with a missing one read as +infinity (ascending) or -infinity (descending).
DUE_LAST = text("'infinity'::date")
DUE_LAST_DESC = text("'-infinity'::date")


class TodoList(Timestamps, Versioned, Trashable, Base):
    __tablename__ = "todo_lists"
    __table_args__ = (
        length_between_1_and(NAME_MAX, "name", "todo_lists_name_check"),
        # Names are unique per owner among the lists not in the trash (a deleted list's name
        # is free at once); this index also finds an owner's lists.
        unique_outside_trash("todo_lists_owner_id_name_key", "owner_id", "name"),
        in_trash("todo_lists"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        BigInteger, _user_fk("todo_lists_owner_id_fkey"), nullable=False
    )
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


class ListMember(Base):
    """A list shared with a user who does not own it: an editor, or a viewer (read only)."""

    __tablename__ = "list_members"
    __table_args__ = (
        CheckConstraint("role IN ('editor', 'viewer')", name="list_members_role_check"),
        Index("ix_list_members_user_id_list_id", "user_id", "list_id"),
    )

    list_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("todo_lists.id", ondelete="CASCADE", name="list_members_list_id_fkey"),
        primary_key=True,
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, _user_fk("list_members_user_id_fkey"), primary_key=True
    )
    role: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
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
    """A committed change, written by triggers in the changing transaction (migration 0006;
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
    # Who may receive it: {"<user id>": "owner" | "editor" | "viewer"}, as the list's owner
    # and members were when it was written (None: nobody, the feed's first event).
    audience: Mapped[dict[str, str] | None] = mapped_column(JSONB)
