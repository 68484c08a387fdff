"""Who a list is shared with (list_members), and as what: editor or viewer."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert

from . import Row
from .db import Work
from .models import ListMember, TodoList, User

members = ListMember.__table__
lists = TodoList.__table__
users = User.__table__


async def list_members(work: Work, list_id: int) -> Sequence[Row]:
    """The owner first, then the members by name (the caller checked the list is visible)."""
    owner = (
        select(users.c.username, literal("owner").label("role"), literal(0).label("rank"))
        .join(lists, lists.c.owner_id == users.c.id)
        .where(lists.c.id == list_id)
    )
    shared = (
        select(users.c.username, members.c.role, literal(1).label("rank"))
        .join(members, members.c.user_id == users.c.id)
        .where(members.c.list_id == list_id)
    )
    both = union_all(owner, shared).subquery()
    stmt = select(both.c.username, both.c.role).order_by(both.c.rank, func.lower(both.c.username))
    return await work.rows(stmt)


async def set_member(work: Work, list_id: int, user_id: int, role: str) -> None:
    """Share the list with the user in `role` (or change their role)."""
    stmt = insert(members).values(list_id=list_id, user_id=user_id, role=role)
    await work.run(
        stmt.on_conflict_do_update(index_elements=["list_id", "user_id"], set_={"role": role})
    )


async def remove_member(work: Work, list_id: int, user_id: int) -> bool:
    stmt = (
        delete(members)
        .where(members.c.list_id == list_id, members.c.user_id == user_id)
        .returning(members.c.user_id)
    )
    return await work.row(stmt) is not None
