"""Todos: reads with filters, search and keyset pages; writes that keep positions unique."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from . import Row
from .models import SEARCH_CONFIG, Todo, TodoList

# Core tables, not ORM entities: statements on them skip the ORM's compile and load layers
# (about a quarter of the database time per request, measured), and rows come back as-is.
todos = Todo.__table__
lists = TodoList.__table__

TODO_COLUMNS = (
    todos.c.id,
    todos.c.list_id,
    todos.c.title,
    todos.c.completed,
    todos.c.position,
    todos.c.version,
    todos.c.created_at,
    todos.c.updated_at,
)

SORT_COLUMNS = {
    "order": todos.c.position,
    "created_at": todos.c.created_at,
    "updated_at": todos.c.updated_at,
}


@dataclass(frozen=True)
class Filter:
    list_id: int | None = None
    completed: bool | None = None
    q: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.list_id is not None:
            conditions.append(todos.c.list_id == self.list_id)
        if self.completed is not None:
            conditions.append(todos.c.completed == self.completed)
        if self.q:
            conditions.append(_matches(self.q))
        return conditions


def _matches(q: str) -> ColumnElement[bool]:
    """websearch_to_tsquery syntax ("quoted phrase", or, -word), plus prefix matching of the
    words, so that typing "gro" already finds "groceries"; -word excludes in both."""
    found = todos.c.search.op("@@")(func.websearch_to_tsquery(SEARCH_CONFIG, q))
    excluded = re.findall(r"(?<![\w\"])-(\w+)", q)
    words = [w for w in re.findall(r"(?<![\w-])\w+", q) if w.lower() != "or" and w not in excluded]
    if not words:
        return found
    prefixes = " & ".join([f"'{w}':*" for w in words] + [f"!'{w}'" for w in excluded])
    return or_(found, todos.c.search.op("@@")(func.to_tsquery(SEARCH_CONFIG, prefixes)))


def _version_matches(versions: Sequence[int] | None) -> list[ColumnElement[bool]]:
    """If-Match: None means no precondition; an empty list matches nothing."""
    return [] if versions is None else [todos.c.version.in_(versions)]


# --- reads -------------------------------------------------------------------------------


async def list_todos(
    session: AsyncSession,
    where: Filter,
    *,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> Sequence[Row]:
    """One page in (sort key, id) order, starting after the keyset `after`."""
    key = SORT_COLUMNS[sort]
    conditions = where.conditions()
    if after is not None:
        cursor = tuple_(key, todos.c.id)
        bound = tuple_(literal(after[0], key.type), literal(after[1]))
        conditions.append(cursor < bound if descending else cursor > bound)
    order = (key.desc(), todos.c.id.desc()) if descending else (key, todos.c.id)
    stmt = select(*TODO_COLUMNS).where(*conditions).order_by(*order).limit(limit)
    return (await session.execute(stmt)).mappings().all()


async def count_todos(session: AsyncSession, where: Filter) -> int:
    stmt = select(func.count()).select_from(todos).where(*where.conditions())
    return (await session.execute(stmt)).scalar_one()


async def get_todo(session: AsyncSession, todo_id: int) -> Row | None:
    stmt = select(*TODO_COLUMNS).where(todos.c.id == todo_id)
    return (await session.execute(stmt)).mappings().first()


# --- positions ---------------------------------------------------------------------------


def _highest_position(list_id: Any) -> Any:
    return (
        select(func.coalesce(func.max(todos.c.position), 0))
        .where(todos.c.list_id == list_id)
        .scalar_subquery()
    )


def _default_list_id() -> Any:
    return select(func.min(lists.c.id)).scalar_subquery()


def _claim_positions(list_id: Any, count: int = 1, at_least: int = 0) -> Any:
    """UPDATE the list's last_position by `count` (and to at least `at_least`), RETURNING it.

    The row lock this takes queues concurrent position changes of the same list; the new value
    is computed from the latest committed row, so two appends never get the same position.
    greatest(..., max(position)) keeps it right after rows were loaded behind the app's back.
    """
    new_last = func.greatest(lists.c.last_position, _highest_position(lists.c.id), at_least) + count
    return (
        update(lists)
        .where(lists.c.id == list_id)
        .values(last_position=new_last)
        .returning(lists.c.id, lists.c.last_position)
    )


async def lock_list(session: AsyncSession, list_id: int, at_least: int = 0) -> int | None:
    """Take the list's position lock for this transaction; its last position, or None."""
    row = (await session.execute(_claim_positions(list_id, 0, at_least))).first()
    return None if row is None else row.last_position


async def _make_room(session: AsyncSession, list_id: int, position: int) -> None:
    """Shift the todos at `position` and after down by one (list lock held)."""
    occupied = (
        select(todos.c.id).where(todos.c.list_id == list_id, todos.c.position == position).exists()
    )
    stmt = (
        update(todos)
        .where(todos.c.list_id == list_id, todos.c.position >= position, occupied)
        .values(position=todos.c.position + 1, version=todos.c.version + 1, updated_at=func.now())
    )
    if (await session.execute(stmt)).rowcount:
        await lock_list(session, list_id, at_least=1)  # the tail grew by one


# --- writes ------------------------------------------------------------------------------


async def append_todo(
    session: AsyncSession, *, title: str, completed: bool, list_id: int | None
) -> Row | None:
    """Insert at the end of the list (default: the first list) in ONE statement; None if the
    list does not exist."""
    target = list_id if list_id is not None else _default_list_id()
    claimed = _claim_positions(target).cte("claimed")
    source = select(claimed.c.id, literal(title), literal(completed), claimed.c.last_position)
    stmt = (
        insert(todos)
        .from_select(["list_id", "title", "completed", "position"], source)
        .returning(*TODO_COLUMNS)
        .add_cte(claimed)
    )
    return (await session.execute(stmt)).mappings().first()


async def insert_todo_at(
    session: AsyncSession, *, title: str, completed: bool, list_id: int | None, order: int
) -> Row | None:
    """Insert at an explicit position, shifting the todos from there on (a transaction)."""
    target = list_id
    if target is None:
        target = (await session.execute(select(_default_list_id()))).scalar()
    if target is None or await lock_list(session, target, at_least=order) is None:
        return None
    await _make_room(session, target, order)
    stmt = (
        insert(todos)
        .values(list_id=target, title=title, completed=completed, position=order)
        .returning(*TODO_COLUMNS)
    )
    return (await session.execute(stmt)).mappings().one()


async def insert_many(
    session: AsyncSession, items: Sequence[dict[str, Any]]
) -> list[Row] | list[int]:
    """All-or-nothing insert of several todos (a transaction). Returns the rows in the given
    order, or the indexes of the items whose list does not exist."""
    default = (await session.execute(select(_default_list_id()))).scalar()
    targets = [item["list_id"] if item["list_id"] is not None else default for item in items]
    known: dict[int, int] = {}
    for list_id in sorted({t for t in targets if t is not None}):  # id order: no deadlocks
        last = await lock_list(session, list_id)
        if last is not None:
            known[list_id] = last
    missing = [i for i, t in enumerate(targets) if t not in known]
    if missing:
        return missing

    rows: list[Row | None] = [None] * len(items)
    appended = [i for i, item in enumerate(items) if item["order"] is None]
    if appended:
        values = []
        for i in appended:
            known[targets[i]] += 1
            values.append(
                {
                    "list_id": targets[i],
                    "title": items[i]["title"],
                    "completed": items[i]["completed"],
                    "position": known[targets[i]],
                }
            )
        for list_id, last in known.items():
            await session.execute(
                update(lists).where(lists.c.id == list_id).values(last_position=last)
            )
        result = await session.execute(
            insert(todos).returning(*TODO_COLUMNS, sort_by_parameter_order=True), values
        )
        for i, row in zip(appended, result.mappings().all(), strict=True):
            rows[i] = row
    for i, item in enumerate(items):
        if item["order"] is not None:
            rows[i] = await insert_todo_at(
                session,
                title=item["title"],
                completed=item["completed"],
                list_id=targets[i],
                order=item["order"],
            )
    return [row for row in rows if row is not None]


async def update_fields(
    session: AsyncSession,
    todo_id: int,
    changes: dict[str, Any],
    versions: Sequence[int] | None = None,
) -> Row | None:
    """Set title/completed in ONE statement, only if the version matches (when given).
    None when the todo is absent or its version differs."""
    stmt = (
        update(todos)
        .where(todos.c.id == todo_id, *_version_matches(versions))
        .values(**changes, version=todos.c.version + 1, updated_at=func.now())
        .returning(*TODO_COLUMNS)
    )
    return (await session.execute(stmt)).mappings().first()


async def move_todo(
    session: AsyncSession,
    current: Row,
    *,
    list_id: int,
    order: int | None,
    changes: dict[str, Any],
) -> Row | None:
    """Move a todo to `order` in `list_id` (same or another list), plus other field changes.
    The list locks are held (see lock_todo_lists). None if the target list does not exist."""
    source, old = current["list_id"], current["position"]
    position: Any = old
    if list_id == source:
        if order is not None and order != old:
            # Close the gap and open the slot in one UPDATE of the range between them.
            if order < old:
                between, shifted = (todos.c.position >= order) & (todos.c.position < old), +1
            else:
                between, shifted = (todos.c.position > old) & (todos.c.position <= order), -1
            await session.execute(
                update(todos)
                .where(todos.c.list_id == source, todos.c.id != current["id"], between)
                .values(
                    position=todos.c.position + shifted,
                    version=todos.c.version + 1,
                    updated_at=func.now(),
                )
            )
            await lock_list(session, source, at_least=order)
            position = order
    elif order is not None:
        await _make_room(session, list_id, order)
        position = order
    else:
        position = (await session.execute(_claim_positions(list_id))).one().last_position
    stmt = (
        update(todos)
        .where(todos.c.id == current["id"])
        .values(
            **changes,
            list_id=list_id,
            position=position,
            version=todos.c.version + 1,
            updated_at=func.now(),
        )
        .returning(*TODO_COLUMNS)
    )
    return (await session.execute(stmt)).mappings().one()


async def lock_todo_lists(
    session: AsyncSession, todo_id: int, other_list: int | None
) -> Row | None:
    """For a move: lock the todo's list (and the target list, in id order), then the todo.
    Returns the todo as it is now, or None if it is gone. Raises LookupError for an unknown
    target list."""
    list_id = (await session.execute(select(todos.c.list_id).where(todos.c.id == todo_id))).scalar()
    if list_id is None:
        return None
    for lid in sorted({list_id, other_list or list_id}):
        if await lock_list(session, lid) is None:
            raise LookupError(lid)
    stmt = select(*TODO_COLUMNS).where(todos.c.id == todo_id).with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    if row is not None and row["list_id"] != list_id:  # moved meanwhile: lock its new list
        return await lock_todo_lists(session, todo_id, other_list)
    return row


async def set_completed(session: AsyncSession, where: Filter, completed: bool) -> int:
    """Toggle all: one UPDATE; todos already in that state keep their version."""
    stmt = (
        update(todos)
        .where(*where.conditions(), todos.c.completed.is_not(completed))
        .values(completed=completed, version=todos.c.version + 1, updated_at=func.now())
    )
    return (await session.execute(stmt)).rowcount


async def delete_todo(
    session: AsyncSession, todo_id: int, versions: Sequence[int] | None = None
) -> bool:
    stmt = (
        delete(todos)
        .where(todos.c.id == todo_id, *_version_matches(versions))
        .returning(todos.c.id)
    )
    return (await session.execute(stmt)).first() is not None


async def delete_todos(session: AsyncSession, where: Filter) -> int:
    stmt = delete(todos).where(*where.conditions())
    return (await session.execute(stmt)).rowcount


async def ensure_default_list(session: AsyncSession, name: str = "Inbox") -> None:
    """Recreate the default list if every list was deleted (a todo needs a home)."""
    stmt = insert(lists).from_select(
        ["name"], select(literal(name)).where(~select(lists.c.id).exists())
    )
    await session.execute(stmt)
