"""Positions: a todo's place in its list (the API's `order`), and the locks that guard them.

Invariant: within a list no two todos share a position. Positions are a permutation with
holes (a delete leaves one), enforced by the deferred UNIQUE (list_id, position) and kept
by the functions here, the only code that changes positions.

Lock order: a change of positions first locks the list row (an UPDATE of its
`last_position`, "the list lock"), two lists in ascending id order, and only then todo rows.
Concurrent position changes of one list therefore queue on its row, and two movers never
deadlock. An append takes the list lock inside its own INSERT statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, func, select, update

from .db import Work
from .models import Todo, TodoList

todos = Todo.__table__
lists = TodoList.__table__


def _highest_position(list_id: Any) -> Any:
    return (
        select(func.coalesce(func.max(todos.c.position), 0))
        .where(todos.c.list_id == list_id)
        .scalar_subquery()
    )


def claim(list_id: Any, count: int = 1, at_least: int = 0) -> Update:
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


async def lock_list(work: Work, list_id: int, at_least: int = 0) -> int | None:
    """Take the list lock for this transaction; the list's last position, or None if absent."""
    row = await work.row(claim(list_id, 0, at_least))
    return None if row is None else row["last_position"]


async def set_last(work: Work, list_id: int, last: int) -> None:
    """Record the highest position handed out (list lock held)."""
    await work.run(update(lists).where(lists.c.id == list_id).values(last_position=last))


def _shift(list_id: int, where: Any, by: int) -> Update:
    # Moved todos changed: their version goes up like any other change.
    return (
        update(todos)
        .where(todos.c.list_id == list_id, where)
        .values(position=todos.c.position + by, version=todos.c.version + 1, updated_at=func.now())
    )


async def make_room(work: Work, list_id: int, position: int) -> None:
    """Shift the todos at `position` and after down by one, if `position` is taken (list
    lock held)."""
    occupied = (
        select(todos.c.id).where(todos.c.list_id == list_id, todos.c.position == position).exists()
    )
    if await work.rowcount(_shift(list_id, (todos.c.position >= position) & occupied, +1)):
        await lock_list(work, list_id, at_least=1)  # the tail grew by one


async def shift_between(work: Work, list_id: int, todo_id: int, old: int, new: int) -> None:
    """Close the gap at `old` and open a slot at `new` in one UPDATE of the range between
    them, for a todo moving within its list (list lock held)."""
    if new < old:
        between, by = (todos.c.position >= new) & (todos.c.position < old), +1
    else:
        between, by = (todos.c.position > old) & (todos.c.position <= new), -1
    await work.run(_shift(list_id, between & (todos.c.id != todo_id), by))
    await lock_list(work, list_id, at_least=new)


async def place(work: Work, list_id: int, order: int | None) -> int:
    """The position for a todo arriving in `list_id`: `order` (room made there) or the end."""
    if order is None:
        row = await work.row(claim(list_id))
        assert row is not None, "the list is locked, so it exists"
        return row["last_position"]
    await make_room(work, list_id, order)
    return order


async def lock_for_move(work: Work, todo_id: int, other_list: int | None) -> int | None:
    """For a move: lock the todo's list (and the target list, in id order). Returns the
    todo's list id, or None if the todo is gone; LookupError for an unknown target list.
    The caller then locks the todo's row and checks it did not move meanwhile."""
    list_id = await work.scalar(select(todos.c.list_id).where(todos.c.id == todo_id))
    if list_id is None:
        return None
    for lid in sorted({list_id, other_list or list_id}):
        if await lock_list(work, lid) is None:
            raise LookupError(lid)
    return list_id
