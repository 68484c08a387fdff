"""Data access: plain async functions, one statement each where possible.

They take the request's session and return row mappings; the routes turn rows into JSON.
Writes are single statements (UPDATE ... RETURNING and friends), so a concurrent client's
change to another field is never overwritten by a stale read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Todo, TodoList

Row = Mapping[str, Any]

TODO_COLUMNS = (
    Todo.id,
    Todo.list_id,
    Todo.title,
    Todo.completed,
    Todo.position,
    Todo.created_at,
    Todo.updated_at,
)

DEFAULT_LIST_NAME = "Inbox"


# --- todos -----------------------------------------------------------------------------


def _todo_filter(list_id: int | None, completed: bool | None) -> list[Any]:
    conditions = []
    if list_id is not None:
        conditions.append(Todo.list_id == list_id)
    if completed is not None:
        conditions.append(Todo.completed == completed)
    return conditions


async def list_todos(
    session: AsyncSession, *, list_id: int | None, completed: bool | None, limit: int
) -> Sequence[Row]:
    stmt = (
        select(*TODO_COLUMNS)
        .where(*_todo_filter(list_id, completed))
        .order_by(Todo.position, Todo.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).mappings().all()


async def get_todo(session: AsyncSession, todo_id: int) -> Row | None:
    stmt = select(*TODO_COLUMNS).where(Todo.id == todo_id)
    return (await session.execute(stmt)).mappings().first()


def _end_of_list(list_id: Any) -> Any:
    """The position after the last todo of a list (1 for an empty list)."""
    return (
        select(func.coalesce(func.max(Todo.position), 0) + 1)
        .where(Todo.list_id == list_id)
        .scalar_subquery()
    )


def _default_list_id() -> Any:
    return select(func.min(TodoList.id)).scalar_subquery()


async def create_todo(
    session: AsyncSession,
    *,
    title: str,
    completed: bool,
    order: int | None,
    list_id: int | None,
) -> Row | None:
    """Insert into the given list, or the default (first) list; None if that list is absent."""
    target = list_id if list_id is not None else _default_list_id()
    position = literal(order) if order is not None else _end_of_list(TodoList.id)
    source = select(TodoList.id, literal(title), literal(completed), position).where(
        TodoList.id == target
    )
    stmt = (
        insert(Todo)
        .from_select(["list_id", "title", "completed", "position"], source)
        .returning(*TODO_COLUMNS)
    )
    return (await session.execute(stmt)).mappings().first()


async def update_todo(session: AsyncSession, todo_id: int, changes: dict[str, Any]) -> Row | None:
    """Apply only the given fields, in one UPDATE ... RETURNING."""
    if not changes:
        return await get_todo(session, todo_id)
    values: dict[str, Any] = {"updated_at": func.now()}
    for field in ("title", "completed", "list_id"):
        if field in changes:
            values[field] = changes[field]
    if "order" in changes:
        values["position"] = changes["order"]
    elif "list_id" in changes:
        # Moved to another list without an explicit order: append it there.
        values["position"] = _end_of_list(changes["list_id"])
    stmt = update(Todo).where(Todo.id == todo_id).values(values).returning(*TODO_COLUMNS)
    return (await session.execute(stmt)).mappings().first()


async def delete_todo(session: AsyncSession, todo_id: int) -> bool:
    stmt = delete(Todo).where(Todo.id == todo_id).returning(Todo.id)
    return (await session.execute(stmt)).first() is not None


async def delete_todos(
    session: AsyncSession, *, list_id: int | None, completed: bool | None
) -> int:
    stmt = delete(Todo).where(*_todo_filter(list_id, completed)).returning(Todo.id)
    return len((await session.execute(stmt)).all())


# --- lists -----------------------------------------------------------------------------


def _lists_with_counts() -> Select[Any]:
    active = func.count(Todo.id).filter(Todo.completed.is_(False))
    done = func.count(Todo.id).filter(Todo.completed.is_(True))
    return (
        select(
            TodoList.id,
            TodoList.name,
            active.label("active_count"),
            done.label("completed_count"),
            TodoList.created_at,
            TodoList.updated_at,
        )
        .outerjoin(Todo, Todo.list_id == TodoList.id)
        .group_by(TodoList.id)
    )


async def list_lists(session: AsyncSession, *, limit: int) -> Sequence[Row]:
    stmt = _lists_with_counts().order_by(TodoList.id).limit(limit)
    return (await session.execute(stmt)).mappings().all()


async def get_list(session: AsyncSession, list_id: int) -> Row | None:
    stmt = _lists_with_counts().where(TodoList.id == list_id)
    return (await session.execute(stmt)).mappings().first()


async def create_list(session: AsyncSession, name: str) -> Row:
    stmt = insert(TodoList).values(name=name).returning(TodoList.id)
    list_id = (await session.execute(stmt)).scalar_one()
    row = await get_list(session, list_id)
    assert row is not None
    return row


async def rename_list(session: AsyncSession, list_id: int, name: str | None) -> Row | None:
    if name is not None:
        stmt = (
            update(TodoList)
            .where(TodoList.id == list_id)
            .values(name=name, updated_at=func.now())
            .returning(TodoList.id)
        )
        if (await session.execute(stmt)).first() is None:
            return None
    return await get_list(session, list_id)


async def delete_list(session: AsyncSession, list_id: int) -> bool:
    # Its todos go with it: ON DELETE CASCADE in the database.
    stmt = delete(TodoList).where(TodoList.id == list_id).returning(TodoList.id)
    return (await session.execute(stmt)).first() is not None


async def ensure_default_list(session: AsyncSession) -> None:
    """Recreate the default list if every list was deleted (a todo needs a home)."""
    stmt = insert(TodoList).from_select(
        ["name"],
        select(literal(DEFAULT_LIST_NAME)).where(~select(TodoList.id).exists()),
    )
    await session.execute(stmt)
