"""Todo lists, each read with the counts of its active and completed todos."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from . import Row
from .models import Todo, TodoList

# Core tables, as in todos.py: no ORM layer on the request path.
todos = Todo.__table__
lists = TodoList.__table__


def _with_counts() -> Select[Any]:
    active = func.count(todos.c.id).filter(todos.c.completed.is_(False))
    done = func.count(todos.c.id).filter(todos.c.completed.is_(True))
    return (
        select(
            lists.c.id,
            lists.c.name,
            lists.c.version,
            active.label("active_count"),
            done.label("completed_count"),
            lists.c.created_at,
            lists.c.updated_at,
        )
        .outerjoin(todos, todos.c.list_id == lists.c.id)
        .group_by(lists.c.id)
    )


async def list_lists(session: AsyncSession, *, after: int | None, limit: int) -> Sequence[Row]:
    stmt = _with_counts().order_by(lists.c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(lists.c.id > after)
    return (await session.execute(stmt)).mappings().all()


async def count_lists(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(lists))).scalar_one()


async def get_list(session: AsyncSession, list_id: int) -> Row | None:
    stmt = _with_counts().where(lists.c.id == list_id)
    return (await session.execute(stmt)).mappings().first()


async def create_list(session: AsyncSession, name: str) -> Row:
    stmt = insert(lists).values(name=name).returning(lists.c.id)
    list_id = (await session.execute(stmt)).scalar_one()
    row = await get_list(session, list_id)
    assert row is not None
    return row


async def rename_list(
    session: AsyncSession, list_id: int, name: str, versions: Sequence[int] | None
) -> bool:
    """Rename if the version matches (when given); False if absent or the version differs."""
    conditions = [lists.c.id == list_id]
    if versions is not None:
        conditions.append(lists.c.version.in_(versions))
    stmt = (
        update(lists)
        .where(*conditions)
        .values(name=name, version=lists.c.version + 1, updated_at=func.now())
        .returning(lists.c.id)
    )
    return (await session.execute(stmt)).first() is not None


async def delete_list(session: AsyncSession, list_id: int, versions: Sequence[int] | None) -> bool:
    # Its todos go with it: ON DELETE CASCADE in the database.
    conditions = [lists.c.id == list_id]
    if versions is not None:
        conditions.append(lists.c.version.in_(versions))
    stmt = delete(lists).where(*conditions).returning(lists.c.id)
    return (await session.execute(stmt)).first() is not None
