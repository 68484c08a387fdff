"""Todo lists, each read with the counts of its active and completed todos, its owner's name
and the actor's role; the actor's default list, and the rule that an actor always keeps at
least one list of their own. A deleted list goes to the trash with its todos (data/trash.py)
and can be restored for a while by its owner."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal, select, update

from ..domain.actor import Actor
from . import Row
from .db import Work
from .models import Todo, TodoList, User
from .scope import editable_lists, owned_lists, present, reachable_lists, role, visible_lists
from .trash import restorable

# Core tables, as in todos.py: no ORM layer on the request path.
todos = Todo.__table__
lists = TodoList.__table__
users = User.__table__

DEFAULT_NAME = "Inbox"
# pg_advisory_xact_lock(class, key): serialises list deletions per actor, so two concurrent
# deletes cannot both see "another list remains" and leave the actor with none.
_DELETE_LOCK_CLASS = 0x1157


def _with_counts(actor: Actor) -> Select[Any]:
    active = func.count(todos.c.id).filter(todos.c.completed.is_(False))
    done = func.count(todos.c.id).filter(todos.c.completed.is_(True))
    return (
        select(
            *[c for c in lists.c if c.name != "last_position"],
            users.c.username.label("owner"),
            role(actor).label("role"),
            active.label("active_count"),
            done.label("completed_count"),
        )
        .join(users, users.c.id == lists.c.owner_id)
        .outerjoin(todos, and_(todos.c.list_id == lists.c.id, present(todos)))
        .group_by(lists.c.id, users.c.username)
    )


def _one(list_id: int, where: list[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    return [lists.c.id == list_id, *where]


def _version_matches(versions: Sequence[int] | None) -> list[ColumnElement[bool]]:
    return [] if versions is None else [lists.c.version.in_(versions)]


def default_list_id(actor: Actor) -> Any:
    """The actor's default list: the first of their own lists (a scalar subquery)."""
    return select(func.min(lists.c.id)).where(*owned_lists(actor)).scalar_subquery()


async def visible_ids(work: Work, ids: Sequence[int]) -> set[int]:
    """Which of these lists the actor may see (and so put todos in)."""
    stmt = select(lists.c.id).where(lists.c.id.in_(ids), *visible_lists(work.actor))
    return set((await work.run(stmt)).scalars())


async def editable_ids(work: Work, ids: Sequence[int]) -> set[int]:
    """Which of these lists the actor may change (and so put todos in)."""
    stmt = select(lists.c.id).where(lists.c.id.in_(ids), *editable_lists(work.actor))
    return set((await work.run(stmt)).scalars())


async def list_lists(work: Work, *, after: int | None, limit: int) -> Sequence[Row]:
    stmt = (
        _with_counts(work.actor).where(*visible_lists(work.actor)).order_by(lists.c.id).limit(limit)
    )
    if after is not None:
        stmt = stmt.where(lists.c.id > after)
    return await work.rows(stmt)


async def count_lists(work: Work) -> int:
    stmt = select(func.count()).select_from(lists).where(*visible_lists(work.actor))
    return await work.scalar(stmt)


async def get_list(work: Work, list_id: int) -> Row | None:
    stmt = _with_counts(work.actor).where(*_one(list_id, visible_lists(work.actor)))
    return await work.row(stmt)


async def create_list(work: Work, name: str) -> Row:
    stmt = insert(lists).values(name=name, owner_id=work.actor.user_id).returning(lists.c.id)
    row = await get_list(work, await work.scalar(stmt))
    assert row is not None
    return row


async def rename_list(work: Work, list_id: int, name: str, versions: Sequence[int] | None) -> bool:
    """Rename if the actor may edit the list and the version matches (when given); False
    if absent, not editable or the version differs."""
    stmt = (
        update(lists)
        .where(*_one(list_id, editable_lists(work.actor)), *_version_matches(versions))
        .values(name=name, version=lists.c.version + 1, updated_at=func.now())
        .returning(lists.c.id)
    )
    return await work.row(stmt) is not None


async def delete_list(work: Work, list_id: int, versions: Sequence[int] | None) -> bool:
    """Move the list, and with it its todos, to the trash if the actor owns it, the version
    matches (when given) and the actor keeps another list; False otherwise (a transaction)."""
    lock = func.pg_advisory_xact_lock(_DELETE_LOCK_CLASS, func.hashtext(work.actor.key))
    await work.run(select(lock))
    owned = owned_lists(work.actor)
    others = select(lists.c.id).where(lists.c.id != list_id, *owned).exists()
    stmt = (
        update(lists)
        .where(*_one(list_id, owned), *_version_matches(versions), others)
        .values(deleted_at=func.now())
        .returning(lists.c.id)
    )
    return await work.row(stmt) is not None


async def restore_list(work: Work, list_id: int) -> None:
    """Take the list (and so its todos) out of the trash, if it went there recently. Its
    name must still be free (else the unique index answers: a conflict)."""
    stmt = (
        update(lists)
        .where(lists.c.id == list_id, restorable(lists), *reachable_lists(work.actor))
        .values(deleted_at=None, version=lists.c.version + 1, updated_at=func.now())
    )
    await work.run(stmt)


async def ensure_default_list(work: Work) -> None:
    """Give the actor an Inbox if they own no list at all (a todo needs a home)."""
    actor = work.actor
    stmt = insert(lists).from_select(
        ["name", "owner_id"],
        select(literal(DEFAULT_NAME), literal(actor.user_id)).where(
            ~select(lists.c.id).where(*owned_lists(actor)).exists()
        ),
    )
    await work.run(stmt)


async def roles(work: Work, list_ids: Iterable[int]) -> dict[int, str]:
    """The actor's role on each of these lists that they may see (to tell a viewer's
    refused write, 403, from a list they cannot see, 404)."""
    stmt = select(lists.c.id, role(work.actor).label("role")).where(
        lists.c.id.in_(list(list_ids)), *visible_lists(work.actor)
    )
    return {row["id"]: row["role"] for row in await work.rows(stmt)}
