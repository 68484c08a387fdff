"""Accounts: creation (with an Inbox, and the implicit user's data for the first account),
look-up by name, password changes, deletion, and handing the implicit user's data over.

These run for the auth layer and the command line, before or outside a request's actor,
so they take the user they concern explicitly; the scoped queries are in lists.py/todos.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, case, cast, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.actor import IMPLICIT_USER_ID
from . import Row
from .db import Work
from .lists import DEFAULT_NAME
from .models import AccessToken, IdempotencyKey, Session, TodoList, User
from .scope import present

users = User.__table__
lists = TodoList.__table__
sessions = Session.__table__
tokens = AccessToken.__table__
keys = IdempotencyKey.__table__

# pg_advisory_xact_lock key: account creations queue here, so "the first account" (which
# takes over the implicit user's data) is well defined when two sign up at once.
_CREATE_LOCK = 0x05E25


async def by_name(work: Work, username: str) -> Row | None:
    """The account named `username`, whatever its case (id, username, password_hash)."""
    stmt = select(users).where(func.lower(users.c.username) == username.lower())
    return await work.row(stmt)


async def by_id(work: Work, user_id: int) -> Row | None:
    return await work.row(select(users.c.id, users.c.username).where(users.c.id == user_id))


async def create(work: Work, username: str, password_hash: str | None) -> Row:
    """A new account with its Inbox (a transaction). The first account also takes over the
    implicit user's lists. A taken name raises the database's unique violation (409)."""
    await work.run(select(func.pg_advisory_xact_lock(_CREATE_LOCK)))
    others = select(users.c.id).where(users.c.id != IMPLICIT_USER_ID)
    first = not await work.scalar(select(others.exists()))
    stmt = (
        insert(users)
        .values(username=username, password_hash=password_hash)
        .returning(users.c.id, users.c.username)
    )
    row = await work.row(stmt)
    assert row is not None
    if first:
        await claim(work, row["id"])
    await work.run(
        pg_insert(lists)
        .values(name=DEFAULT_NAME, owner_id=row["id"])
        # Names are unique per owner among the lists outside the trash.
        .on_conflict_do_nothing(
            index_elements=[lists.c.owner_id, lists.c.name], index_where=present(lists)
        )
    )
    return row


async def claim(work: Work, user_id: int) -> int:
    """Give the implicit user's lists (and so their todos) to `user_id`; how many moved.
    A name the new owner already uses gets the list's id appended."""
    mine = lists.alias("mine")
    taken = select(mine.c.id).where(
        mine.c.owner_id == user_id, mine.c.name == lists.c.name, mine.c.deleted_at.is_(None)
    )
    renamed = func.left(lists.c.name, 180) + " (" + cast(lists.c.id, Text) + ")"
    stmt = (
        update(lists)
        .where(lists.c.owner_id == IMPLICIT_USER_ID)
        .values(owner_id=user_id, name=case((taken.exists(), renamed), else_=lists.c.name))
    )
    return await work.rowcount(stmt)


async def set_password(
    work: Work, user_id: int, password_hash: str, *, end_sessions: bool = True
) -> bool:
    """New password; every session of the account ends (a transaction), unless this is
    the same password re-hashed with today's parameters. False if there is no such user."""
    stmt = (
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash)
        .returning(users.c.id)
    )
    found = await work.row(stmt) is not None
    if end_sessions:
        await work.run(delete(sessions).where(sessions.c.user_id == user_id))
    return found


async def delete_account(work: Work, user_id: int) -> bool:
    """Delete the account and, by ON DELETE CASCADE in the same statement, its lists (and
    their todos and shares), sessions, tokens and memberships; then its idempotency keys.
    Run in one transaction. False if there is no such account."""
    assert user_id != IMPLICIT_USER_ID, "the implicit user is not an account"
    gone = await work.row(delete(users).where(users.c.id == user_id).returning(users.c.id))
    await work.run(delete(keys).where(keys.c.scope.startswith(f"user:{user_id} ")))
    return gone is not None


async def all_accounts(work: Work) -> Sequence[Row]:
    """Every account with its number of lists, sessions and tokens (for `todoapp users list`)."""

    def count(column: Any) -> Any:
        return select(func.count()).where(column == users.c.id).scalar_subquery()

    stmt = (
        select(
            users.c.id,
            users.c.username,
            users.c.created_at,
            count(lists.c.owner_id).label("lists"),
            count(sessions.c.user_id).label("sessions"),
            count(tokens.c.user_id).label("tokens"),
        )
        .where(users.c.id != IMPLICIT_USER_ID)
        .order_by(users.c.id)
    )
    return await work.rows(stmt)
