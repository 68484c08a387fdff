"""Todos: reads with filters, search and keyset pages; writes through the list's positions;
DELETE moves them to the trash (data/trash.py), from which they can be restored.

Columns are never listed by name here: reads return every stored column (the response shape
in domain/schemas.py picks what it shows) and writes take the fields they are given, so a
new column needs the model, a migration and the schemas, and nothing in this module.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, insert, literal, or_, select, tuple_, update

from . import Row, positions
from .db import Work
from .lists import default_list_id, editable_ids
from .models import DUE_LAST, DUE_LAST_DESC, SEARCH_CONFIG, Todo
from .scope import editable_lists, editable_todos, reachable_todos, visible_todos
from .trash import restorable

# Core tables, not ORM entities: statements on them skip the ORM's compile and load layers
# (about a quarter of the database time per request, measured), and rows come back as-is.
todos = Todo.__table__

# Every stored column; generated ones (the search vector) are the database's business.
COLUMNS = tuple(c for c in todos.c if c.computed is None)

SORT_COLUMNS = {
    "order": todos.c.position,
    "created_at": todos.c.created_at,
    "updated_at": todos.c.updated_at,
    "due": todos.c.due,
}


def _sort_key(sort: str, value: Any, descending: bool) -> Any:
    """What a page is ordered by: the column (or a cursor's value of it). A missing due
    date sorts last either way (as the indexes in models.py), so the key is never NULL and
    a (key, id) keyset is a total order."""
    if sort == "due":
        return func.coalesce(value, DUE_LAST_DESC if descending else DUE_LAST)
    return value


class NoSuchList(LookupError):
    """A todo was sent to lists that do not exist (or that the actor may not change)."""

    def __init__(self, indexes: Sequence[int] = ()) -> None:
        super().__init__(indexes)
        self.indexes = list(indexes)  # which items of a bulk create, when there are several


@dataclass(frozen=True)
class Filter:
    list_id: int | None = None
    completed: bool | None = None
    q: str | None = None
    due_before: date | None = None  # inclusive
    due_after: date | None = None  # inclusive
    overdue: bool | None = None  # due before `today` and not completed (or, False: not so)
    today: date | None = None  # the caller's today, in the time zone it chose

    def conditions(self, work: Work, *, writing: bool = False) -> list[ColumnElement[bool]]:
        """The filter's conditions, within the todos the actor may see (or, `writing`,
        change: a bulk write never touches a list shared with them as a viewer)."""
        conditions = (editable_todos if writing else visible_todos)(work.actor)
        if self.list_id is not None:
            conditions.append(todos.c.list_id == self.list_id)
        if self.completed is not None:
            conditions.append(todos.c.completed == self.completed)
        if self.q:
            conditions.append(_matches(self.q))
        if self.due_before is not None:
            conditions.append(todos.c.due <= self.due_before)
        if self.due_after is not None:
            conditions.append(todos.c.due >= self.due_after)
        if self.overdue is not None:
            assert self.today is not None, "overdue needs the caller's today"
            # Never NULL (an undated todo is simply not late), so NOT works too.
            late = todos.c.due.is_not(None) & (todos.c.due < self.today) & ~todos.c.completed
            conditions.append(late if self.overdue else ~late)
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


def _one(work: Work, todo_id: int) -> list[ColumnElement[bool]]:
    return [todos.c.id == todo_id, *visible_todos(work.actor)]


def _editable_one(work: Work, todo_id: int) -> list[ColumnElement[bool]]:
    return [todos.c.id == todo_id, *editable_todos(work.actor)]


def _version_matches(versions: Sequence[int] | None) -> list[ColumnElement[bool]]:
    """If-Match: None means no precondition; an empty list matches nothing."""
    return [] if versions is None else [todos.c.version.in_(versions)]


def _changed(**values: Any) -> dict[str, Any]:
    """SET values of an UPDATE: every change raises the version and the update time."""
    return {**values, "version": todos.c.version + 1, "updated_at": func.now()}


# --- reads -------------------------------------------------------------------------------


async def list_todos(
    work: Work, where: Filter, *, sort: str, descending: bool, after: Any, limit: int
) -> Sequence[Row]:
    """One page in (sort key, id) order, starting after the keyset `after` (key, id)."""
    column = SORT_COLUMNS[sort]
    key = _sort_key(sort, column, descending)
    conditions = where.conditions(work)
    if after is not None:
        cursor = tuple_(key, todos.c.id)
        value = _sort_key(sort, literal(after[0], column.type), descending)
        bound = tuple_(value, literal(after[1]))
        conditions.append(cursor < bound if descending else cursor > bound)
    order = (key.desc(), todos.c.id.desc()) if descending else (key, todos.c.id)
    return await work.rows(select(*COLUMNS).where(*conditions).order_by(*order).limit(limit))


async def count_todos(work: Work, where: Filter) -> int:
    return await work.scalar(select(func.count()).select_from(todos).where(*where.conditions(work)))


async def get_todo(work: Work, todo_id: int) -> Row | None:
    return await work.row(select(*COLUMNS).where(*_one(work, todo_id)))


# --- writes ------------------------------------------------------------------------------


async def append_todo(work: Work, fields: Mapping[str, Any], list_id: int | None) -> Row:
    """Insert at the end of the list (default: the actor's first list) in ONE statement.
    Raises NoSuchList if the list does not exist."""
    target = list_id if list_id is not None else default_list_id(work.actor)
    # Only a list the actor may change takes todos: checked by the locking UPDATE itself, so
    # a list deleted meanwhile is seen as deleted once its lock is ours.
    claimed = positions.claim(target).where(*editable_lists(work.actor)).cte("claimed")
    names = list(fields)
    # Typed parameters: a NULL due date is a date, not text, to the INSERT ... SELECT.
    values = [literal(fields[n], todos.c[n].type) for n in names]
    source = select(claimed.c.id, claimed.c.last_position, *values)
    stmt = (
        insert(todos)
        .from_select(["list_id", "position", *names], source)
        .returning(*COLUMNS)
        .add_cte(claimed)
    )
    row = await work.row(stmt)
    if row is None:
        raise NoSuchList()
    return row


async def insert_todo_at(
    work: Work, fields: Mapping[str, Any], list_id: int | None, order: int
) -> Row:
    """Insert at an explicit position, moving the todos in the way (a transaction)."""
    target = await positions.lock_order(
        work, list_id if list_id is not None else default_list_id(work.actor)
    )
    if target is None:
        raise NoSuchList()
    if not await editable_ids(work, [target]):  # checked with its lock held
        raise NoSuchList()
    await positions.make_room(work, target, order)
    values = {**fields, "list_id": target, "position": order}
    return await _one_row(work, insert(todos).values(values).returning(*COLUMNS))


async def _one_row(work: Work, stmt: Any) -> Row:
    row = await work.row(stmt)
    assert row is not None, "the statement returns the row it wrote"
    return row


Item = tuple[Mapping[str, Any], int | None, int | None]  # (fields, list_id, order)


async def insert_many(work: Work, items: Sequence[Item]) -> list[Row]:
    """All-or-nothing insert of several (fields, list_id, order) items (a transaction); rows
    in the given order. Items naming the same place keep the request's order there. Raises
    NoSuchList naming the items whose list does not exist."""
    default = await work.scalar(select(default_list_id(work.actor)))
    targets = [list_id if list_id is not None else default for _, list_id, _ in items]
    found = await _lock_lists(work, targets)
    missing = [i for i, target in enumerate(targets) if target not in found]
    if missing:
        raise NoSuchList(missing)
    rows: dict[int, Row] = {}
    placed = await _insert_placed(work, items, targets)
    if placed:  # read after all groups are in: a later group may have moved earlier ones
        fresh = await work.rows(select(*COLUMNS).where(todos.c.id.in_(placed.values())))
        by_id = {row["id"]: row for row in fresh}
        rows = {i: by_id[todo_id] for i, todo_id in placed.items()}
    rows.update(await _append_many(work, items, targets))
    return [rows[i] for i in range(len(items))]


async def _lock_lists(work: Work, targets: Sequence[int | None]) -> set[int]:
    """Take the order locks of every target list (in id order: no deadlocks); the lists
    that exist and that the actor may change (checked with the locks held: a list in the trash
    takes no todos)."""
    found = []
    for list_id in sorted({t for t in targets if t is not None}):
        if await positions.lock_order(work, list_id) is not None:
            found.append(list_id)
    return await editable_ids(work, found)


async def _insert_placed(
    work: Work, items: Sequence[Item], targets: Sequence[Any]
) -> dict[int, int]:
    """Items with an order: room made once per (list, order), highest first, so each group
    lands before the todos that held its place, in front of any group placed after it.
    Their ids by item index."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (_, _, order) in enumerate(items):
        if order is not None:
            groups[(targets[i], order)].append(i)
    ids: dict[int, int] = {}
    for (list_id, order), group in sorted(groups.items(), reverse=True):
        await positions.make_room(work, list_id, order, len(group))
        values = [
            {**items[i][0], "list_id": list_id, "position": order + n} for n, i in enumerate(group)
        ]
        stmt = insert(todos).returning(todos.c.id, sort_by_parameter_order=True)
        ids.update(zip(group, (await work.run(stmt, values)).scalars(), strict=True))
    return ids


async def _append_many(work: Work, items: Sequence[Item], targets: Sequence[Any]) -> dict[int, Row]:
    """One multi-row INSERT for the items that go to the end of their lists (after the
    placed ones, so nothing moves them). Their rows by item index."""
    appended = [i for i, (_, _, order) in enumerate(items) if order is None]
    if not appended:
        return {}
    last: dict[int, int] = {}
    for list_id in sorted({targets[i] for i in appended}):
        last[list_id] = await positions.lock_end(work, list_id) or 0
    values = []
    for i in appended:
        last[targets[i]] = positions.after(last[targets[i]])
        values.append({**items[i][0], "list_id": targets[i], "position": last[targets[i]]})
    for list_id, position in last.items():
        await positions.set_last(work, list_id, position)
    stmt = insert(todos).returning(*COLUMNS, sort_by_parameter_order=True)
    return dict(zip(appended, (await work.run(stmt, values)).mappings(), strict=True))


async def update_fields(
    work: Work, todo_id: int, changes: Mapping[str, Any], versions: Sequence[int] | None = None
) -> Row | None:
    """Set fields in ONE statement, only if the version matches (when given).
    None when the todo is absent, not the actor's to change, or its version differs."""
    stmt = (
        update(todos)
        .where(*_editable_one(work, todo_id), *_version_matches(versions))
        .values(_changed(**changes))
        .returning(*COLUMNS)
    )
    return await work.row(stmt)


async def lock_for_move(work: Work, todo_id: int, other_list: int | None) -> Row | None:
    """For a move: lock the lists concerned (see positions), then the todo. Returns the todo
    as it is now, or None if it is gone. Raises NoSuchList for an unknown target list."""
    try:
        list_id = await positions.lock_for_move(work, todo_id, other_list)
    except LookupError:
        raise NoSuchList() from None
    if list_id is None:
        return None
    if other_list is not None and not await editable_ids(work, [other_list]):
        raise NoSuchList()
    stmt = select(*COLUMNS).where(*_editable_one(work, todo_id)).with_for_update()
    row = await work.row(stmt)
    if row is not None and row["list_id"] != list_id:  # moved meanwhile: lock its new list
        return await lock_for_move(work, todo_id, other_list)
    return row


async def move_todo(
    work: Work, current: Row, *, list_id: int, order: int | None, changes: Mapping[str, Any]
) -> Row:
    """Move a todo to `order` in `list_id` (same or another list), plus other field changes
    (the order locks are held: see lock_for_move)."""
    position = current["position"]
    if list_id != current["list_id"]:
        position = await positions.place(work, list_id, order)
    elif order is not None and order != position:
        await positions.make_room(work, list_id, order, mover=current["id"])
        position = order
    stmt = (
        update(todos)
        .where(todos.c.id == current["id"])
        .values(_changed(**changes, list_id=list_id, position=position))
        .returning(*COLUMNS)
    )
    return await _one_row(work, stmt)


async def set_completed(work: Work, where: Filter, completed: bool) -> int:
    """Toggle all: one UPDATE; todos already in that state keep their version."""
    stmt = (
        update(todos)
        .where(*where.conditions(work, writing=True), todos.c.completed.is_not(completed))
        .values(_changed(completed=completed))
    )
    return await work.rowcount(stmt)


async def delete_todo(work: Work, todo_id: int, versions: Sequence[int] | None = None) -> bool:
    """Move the todo to the trash if the version matches (when given)."""
    stmt = (
        update(todos)
        .where(*_editable_one(work, todo_id), *_version_matches(versions))
        .values(deleted_at=func.now())
        .returning(todos.c.id)
    )
    return await work.row(stmt) is not None


async def delete_todos(work: Work, where: Filter) -> int:
    """Move the matching todos to the trash (together: one deletion, one undo)."""
    stmt = update(todos).where(*where.conditions(work, writing=True)).values(deleted_at=func.now())
    return await work.rowcount(stmt)


async def restore_todos(work: Work, ids: Sequence[int]) -> Sequence[Row]:
    """Take these todos out of the trash, if they went there recently and their list is one
    the actor may change; returns those of them that are visible now, restored or never
    deleted (so a retried undo answers the same), in order (a transaction)."""
    back = (
        update(todos)
        .where(todos.c.id.in_(ids), restorable(todos), *reachable_todos(work.actor))
        .values(_changed(deleted_at=None))
    )
    await work.run(back)
    stmt = select(*COLUMNS).where(todos.c.id.in_(ids), *visible_todos(work.actor))
    return await work.rows(stmt.order_by(todos.c.list_id, todos.c.position))
