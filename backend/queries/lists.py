"""Todo lists, each read with the counts of its active and completed todos."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Todo, TodoList
from . import Row


def _with_counts() -> Select[Any]:
    active = func.count(Todo.id).filter(Todo.completed.is_(False))
    done = func.count(Todo.id).filter(Todo.completed.is_(True))
    return (
        select(
            TodoList.id,
            TodoList.name,
            TodoList.version,
            active.label("active_count"),
            done.label("completed_count"),
            TodoList.created_at,
            TodoList.updated_at,
        )
        .outerjoin(Todo, Todo.list_id == TodoList.id)
        .group_by(TodoList.id)
    )


async def list_lists(session: AsyncSession, *, after: int | None, limit: int) -> Sequence[Row]:
    stmt = _with_counts().order_by(TodoList.id).limit(limit)
    if after is not None:
        stmt = stmt.where(TodoList.id > after)
    return (await session.execute(stmt)).mappings().all()


async def count_lists(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(TodoList))).scalar_one()


async def get_list(session: AsyncSession, list_id: int) -> Row | None:
    stmt = _with_counts().where(TodoList.id == list_id)
    return (await session.execute(stmt)).mappings().first()


async def create_list(session: AsyncSession, name: str) -> Row:
    stmt = insert(TodoList).values(name=name).returning(TodoList.id)
    list_id = (await session.execute(stmt)).scalar_one()
    row = await get_list(session, list_id)
    assert row is not None
    return row


async def rename_list(
    session: AsyncSession, list_id: int, name: str, versions: Sequence[int] | None
) -> bool:
    """Rename if the version matches (when given); False if absent or the version differs."""
    conditions = [TodoList.id == list_id]
    if versions is not None:
        conditions.append(TodoList.version.in_(versions))
    stmt = (
        update(TodoList)
        .where(*conditions)
        .values(name=name, version=TodoList.version + 1, updated_at=func.now())
        .returning(TodoList.id)
    )
    return (await session.execute(stmt)).first() is not None


async def delete_list(session: AsyncSession, list_id: int, versions: Sequence[int] | None) -> bool:
    # Its todos go with it: ON DELETE CASCADE in the database.
    conditions = [TodoList.id == list_id]
    if versions is not None:
        conditions.append(TodoList.version.in_(versions))
    stmt = delete(TodoList).where(*conditions).returning(TodoList.id)
    return (await session.execute(stmt)).first() is not None
