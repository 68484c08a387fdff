"""Positions: a todo's place in its list (the API's `order`), and the locks that guard them.

Invariant: within a list no two todos share a position. Positions are a permutation with
holes, enforced by the deferred UNIQUE (list_id, position) and kept by the functions here,
the only code that changes positions. `todo_lists.last_position` is never below the highest
position in the list.

Cost: a change of position touches a few rows, whatever the list's length, because the list
keeps holes where new todos can land without moving anyone:

- Appends leave GAP free positions behind the last todo (1000, 2000, ...).
- A todo sent to a free position just takes it. Sent to a taken one, it takes it and the
  todos in its way (the one there and those right behind it, up to the first hole) move up
  together to the far end of that hole, so the next todo sent to the same place finds room.
- When more than RUN_LIMIT todos are in the way, the crowded stretch is spread out instead:
  the smallest window from that order (doubling its size) at most DENSITY full is
  renumbered, its todos evenly over the window's second half, so the first half is free
  for the next arrivals. Rare, and its cost grows with the crowd, not the list, so an
  insert moves one or two todos on average (tests/test_positions.py counts them,
  bench/positions.py times them).

Todos in the trash keep their positions (an undo puts them back in their place) but take
no room: the plans below see only the todos outside it, and a trashed todo where a plan
needs room steps aside (`_clear_trash`).

Relative order is all the API promises: moved todos keep theirs, and their version goes up
like any other change.

Locks: two per list, taken in this order (order locks of several lists in ascending id):

1. The order lock (pg_advisory_xact_lock(ORDER_LOCK, list id), with a KEY SHARE lock on the
   list's row so the list stays): every change of positions inside the list queues on it.
2. The end lock (an UPDATE of the list row's `last_position`): appends take it inside their
   own INSERT; an insert or move takes it, besides its order lock, only when it needs
   positions past `last_position`, where appends land. So appends never wait for inserts
   and moves in the middle of their list, however long those take.

An append holds nothing else, and every other holder of an end lock holds that list's order
lock first, so nobody deadlocks. Once it holds a lock, each statement (READ COMMITTED) sees
every position committed by the lock's previous holders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    Update,
    any_,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from ..domain.limits import MAX_ORDER
from .db import Work
from .models import Todo, TodoList
from .scope import editable_lists, editable_todos

todos = Todo.__table__
lists = TodoList.__table__

GAP = 1000  # free positions an append leaves before it (fewer once past MAX_ORDER)
RUN_LIMIT = 32  # more todos in the way than this: spread a window instead of moving them
DENSITY = 0.25  # a window is spread only once it is at most this full
TOP = 2**31 - 1  # the position column is a PostgreSQL integer
ORDER_LOCK = 0x0D3E  # the advisory lock class of order locks (key: the list id, mod 2^31)


def after(last: int) -> int:
    """The position an append takes after `last`: GAP further while orders stay within
    MAX_ORDER (what a client may send), then the next one."""
    return min(last + GAP, max(last + 1, MAX_ORDER))


def _after(last: Any) -> Any:
    """after(), in SQL."""
    return func.least(last + GAP, func.greatest(last + 1, MAX_ORDER))


def _highest_position(list_id: Any) -> Any:
    return (
        select(func.coalesce(func.max(todos.c.position), 0))
        .where(todos.c.list_id == list_id)
        .scalar_subquery()
    )


def _set_last(list_id: Any, value: Any) -> Update:
    return (
        update(lists)
        .where(lists.c.id == list_id)
        .values(last_position=value)
        .returning(lists.c.id, lists.c.last_position)
    )


def claim(list_id: Any) -> Update:
    """UPDATE the list's last_position to the next append position, RETURNING it.

    The row lock this takes (the end lock) queues concurrent appends to the same list; the new
    value is computed from the latest committed row, so two appends never get the same one.
    greatest(..., max(position)) keeps it right after rows were loaded behind the app's back.
    """
    return _set_last(
        list_id, _after(func.greatest(lists.c.last_position, _highest_position(lists.c.id)))
    )


async def lock_order(work: Work, list_id: Any) -> int | None:
    """Take the list's order lock for this transaction (`list_id` may be a SQL expression,
    such as the default list); the list's id, or None if there is no such list (or not
    the actor's to change)."""
    key = cast(lists.c.id % 2**31, Integer)  # ids past 2^31 share locks: only more queueing
    stmt = (
        select(lists.c.id, func.pg_advisory_xact_lock(ORDER_LOCK, key))
        .where(lists.c.id == list_id, *editable_lists(work.actor))
        .with_for_update(read=True, key_share=True)  # FOR KEY SHARE: the list stays
    )
    return await work.scalar(stmt)


async def lock_end(work: Work, list_id: int, at_least: int = 0) -> int | None:
    """Take the list's end lock for this transaction (and raise last_position to at least
    `at_least`); the list's last position, or None if there is no such list."""
    last = func.greatest(lists.c.last_position, _highest_position(lists.c.id), at_least)
    row = await work.row(_set_last(list_id, last))
    return None if row is None else row["last_position"]


async def set_last(work: Work, list_id: int, last: int) -> None:
    """Record the highest position handed out (end lock held)."""
    await work.run(_set_last(list_id, last))


async def place(work: Work, list_id: int, order: int | None) -> int:
    """The position for a todo arriving in `list_id`: `order` (room made there) or the end."""
    if order is None:
        row = await work.row(claim(list_id))
        assert row is not None, "the list's order lock is held, so it exists"
        return row["last_position"]
    await make_room(work, list_id, order)
    return order


async def make_room(
    work: Work, list_id: int, order: int, count: int = 1, mover: int | None = None
) -> None:
    """Free the positions order .. order+count-1 for todos arriving there (order lock held).
    The todos in the way keep their relative order after them; `mover`, a todo of this list
    that is about to take the place, is not in the way."""
    end = order + count - 1
    plan = await _plan(work, list_id, order, end, mover)
    if plan.inside:  # appends go past the todo that stays: no need to wait for them
        await _carry_out(work, list_id, order, end, plan)
        return
    # Appends land past last_position as it is now; those that came before are in view
    # when planning again after reading it. Past it, take the end lock: appends wait.
    last = await _last(work, list_id)
    plan = await _plan(work, list_id, order, end, mover)
    if plan.inside or plan.highest <= last:
        await _carry_out(work, list_id, order, end, plan)
        return
    await lock_end(work, list_id)
    plan = await _plan(work, list_id, order, end, mover)
    await _carry_out(work, list_id, order, end, plan)
    await lock_end(work, list_id, at_least=plan.highest)


async def _carry_out(work: Work, list_id: int, order: int, end: int, plan: _Plan) -> None:
    """Move the planned todos, and the trashed ones in their way out of it first."""
    await _clear_trash(work, list_id, order, end, plan)
    await _renumber(work, plan.ids, plan.targets)


async def _clear_trash(work: Work, list_id: int, order: int, end: int, plan: _Plan) -> None:
    """A todo in the trash keeps its position (an undo puts it back in its place) but takes
    no room: plans see only the todos outside it, so a todo sent to its order moves nobody
    visible. One that sits where the room or the moved todos go moves into the hole after
    the room, where it keeps its place among the visible todos, or, with no room left there,
    to the list's end (taking the end lock, as an append would)."""
    wanted = literal(list(plan.targets), ARRAY(Integer))
    trashed = await work.rows(
        select(todos.c.id)
        .where(todos.c.list_id == list_id, todos.c.deleted_at.is_not(None))
        .where(todos.c.position.between(order, end) | (todos.c.position == any_(wanted)))
        .order_by(todos.c.position)
    )
    if not trashed:
        return
    ids = [row["id"] for row in trashed]
    near = await _free_after(work, list_id, end, plan, leaving=[*ids, *plan.ids])
    near = near[: len(ids)]
    await _renumber(work, ids[: len(near)], near)
    if len(near) < len(ids):
        last = await lock_end(work, list_id)
        assert last is not None, "the list's order lock is held, so it exists"
        base = max(last, end, *plan.targets)  # past the room and the moved todos too
        rest = ids[len(near) :]
        await _renumber(work, rest, range(base + 1, base + 1 + len(rest)))
        await set_last(work, list_id, base + len(rest))


async def _free_after(
    work: Work, list_id: int, end: int, plan: _Plan, leaving: Sequence[int]
) -> list[int]:
    """Positions after `end` and before the plan's next taken one (within last_position, as
    appends land past it) that nobody holds once the todos `leaving` have left them."""
    limit = plan.free_until if plan.free_until is not None else await _last(work, list_id) + 1
    held_rows = await work.rows(
        select(todos.c.position)
        .where(todos.c.list_id == list_id, todos.c.position > end, todos.c.position < limit)
        .where(todos.c.id.not_in(list(leaving)))
        .order_by(todos.c.position)
        .limit(RUN_LIMIT)
    )
    held = {row["position"] for row in held_rows}
    if len(held_rows) == RUN_LIMIT:  # crowded with trash: only up to what was read
        limit = held_rows[-1]["position"]
    return [p for p in range(end + 1, min(limit, end + 1 + RUN_LIMIT)) if p not in held]


@dataclass(frozen=True)
class _Plan:
    ids: list[int]  # the todos to move,
    targets: list[int]  # to these positions;
    highest: int  # the highest position the room and the moved todos take
    inside: bool  # all below a todo that stays, so below any append
    free_until: int | None  # the first position after the room taken again (None: the end)


async def _plan(work: Work, list_id: int, order: int, end: int, mover: int | None) -> _Plan:
    run, next_taken = await _in_the_way(work, list_id, order, end, mover)
    if len(run) > RUN_LIMIT:
        return await _spread(work, list_id, order, end, mover)
    return _move_up(run, end, next_taken)


async def _last(work: Work, list_id: int) -> int:
    """The list's last_position as committed (no lock: only appends raise it meanwhile)."""
    return await work.scalar(select(lists.c.last_position).where(lists.c.id == list_id))


def _from(list_id: int, order: int, mover: int | None) -> Select[Any]:
    """The list's todos outside the trash at `order` and after, by position."""
    stmt = select(todos.c.id, todos.c.position).where(
        todos.c.list_id == list_id, todos.c.position >= order, todos.c.deleted_at.is_(None)
    )
    if mover is not None:
        stmt = stmt.where(todos.c.id != mover)
    return stmt.order_by(todos.c.position)


async def _in_the_way(
    work: Work, list_id: int, order: int, end: int, mover: int | None
) -> tuple[list[int], int | None]:
    """The todos that must move for positions order..end to be free (each pushes the next
    while there is no hole between them; more than RUN_LIMIT: a crowd), and the position of
    the first todo after them, None if they reach the list's end."""
    run: list[int] = []
    for row in await work.rows(_from(list_id, order, mover).limit(RUN_LIMIT + 1)):
        if row["position"] > end + len(run):
            return run, row["position"]
        run.append(row["id"])
    return run, None


def _move_up(run: list[int], end: int, next_taken: int | None) -> _Plan:
    """The run moves to the far end of the hole after it (the list's end counts as a hole
    of GAP), leaving the near end free for the next arrivals."""
    if not run:
        return _Plan([], [], end, next_taken is not None, next_taken)
    stop = next_taken if next_taken is not None else after(end + len(run))
    targets = list(range(stop - len(run), stop))
    return _Plan(run, targets, targets[-1], next_taken is not None, targets[0])


async def _spread(work: Work, list_id: int, order: int, end: int, mover: int | None) -> _Plan:
    """The smallest window from `order` (doubling) at most DENSITY full: its todos go
    evenly over its second half."""
    size = 4 * (end - order + 1 + RUN_LIMIT)
    while True:
        stop = min(order + size, TOP + 1)
        fits = int(DENSITY * (stop - order)) - (end - order + 1)
        crowd = await work.rows(
            _from(list_id, order, mover).where(todos.c.position < stop).limit(max(fits, 0) + 1)
        )
        if len(crowd) <= fits or stop > TOP:
            break
        size *= 2
    if len(crowd) > fits:  # only at TOP, with the window's limit reached
        crowd = await work.rows(_from(list_id, order, mover).where(todos.c.position < stop))
    first = end + 1 + (stop - end - 1) // 2
    room = stop - first
    if len(crowd) > room:
        raise OverflowError(f"list {list_id} has no free positions left after {order}")
    targets = [first + i * room // len(crowd) for i in range(len(crowd))]
    moving = [(row["id"], t) for row, t in zip(crowd, targets, strict=True) if row["position"] != t]
    ids, moved_to = [i for i, _ in moving], [t for _, t in moving]
    return _Plan(ids, moved_to, max(end, *targets), False, first)


async def _renumber(work: Work, ids: Sequence[int], targets: Sequence[int]) -> None:
    """Give todo ids[i] position targets[i], in ONE statement (the UNIQUE is deferred, so
    intermediate states may collide). Moved todos changed: their version goes up."""
    if not ids:
        return
    moved = (
        func.unnest(literal(list(ids), ARRAY(BigInteger)), literal(list(targets), ARRAY(Integer)))
        .table_valued("id", "position")
        .render_derived()
    )
    await work.run(
        update(todos)
        .where(todos.c.id == moved.c.id)
        .values(position=moved.c.position, version=todos.c.version + 1, updated_at=func.now())
    )


async def lock_for_move(work: Work, todo_id: int, other_list: int | None) -> int | None:
    """For a move: take the order locks of the todo's list (and the target list, in id
    order). Returns the todo's list id, or None if the todo is gone (or not the actor's to
    change); LookupError for a target list that is unknown or not theirs to change. The
    caller then locks the todo's row and checks it did not move meanwhile."""
    stmt = select(todos.c.list_id).where(todos.c.id == todo_id, *editable_todos(work.actor))
    list_id = await work.scalar(stmt)
    if list_id is None:
        return None
    for lid in sorted({list_id, other_list or list_id}):
        if await lock_order(work, lid) is None:
            raise LookupError(lid)
    return list_id
