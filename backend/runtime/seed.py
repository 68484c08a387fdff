"""Example data for a first look: a few lists and todos. Running it twice adds nothing."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ..data.db import create_engine
from ..data.models import Todo, TodoList
from ..data.scope import present
from ..domain.actor import IMPLICIT_USER_ID
from .config import Settings

list_table, todo_table = TodoList.__table__, Todo.__table__

EXAMPLES: dict[str, list[tuple[str, bool]]] = {
    "Groceries": [("Milk", False), ("Bread", True), ("Coffee beans", False)],
    "Work": [("Review the pull request", False), ("Write the release notes", False)],
    "Weekend": [("Fix the bike", False), ("Call grandma", True)],
}


async def seed(settings: Settings, owner_id: int = IMPLICIT_USER_ID) -> int:
    """Create the example lists that do not exist yet, with their todos, for `owner_id` (by
    default the implicit user of AUTH=off); return how many."""
    engine = create_engine(settings)
    created = 0
    try:
        async with engine.begin() as conn:
            for name, todos in EXAMPLES.items():
                stmt = (
                    pg_insert(TodoList)
                    .values(name=name, owner_id=owner_id)
                    # The name is unique per owner among the lists outside the trash.
                    .on_conflict_do_nothing(
                        index_elements=[TodoList.owner_id, TodoList.name],
                        index_where=present(list_table),
                    )
                    .returning(TodoList.id)
                )
                list_id = (await conn.execute(stmt)).scalar()
                if list_id is None:
                    continue  # already there: leave the user's edits alone
                created += 1
                await conn.execute(
                    insert(Todo),
                    [
                        {"list_id": list_id, "title": t, "completed": done, "position": i}
                        for i, (t, done) in enumerate(todos, start=1)
                    ],
                )
            await _fill_inbox(conn, owner_id)
    finally:
        await engine.dispose()
    return created


async def _fill_inbox(conn: AsyncConnection, owner_id: int) -> None:
    """One todo in the owner's Inbox, only if it is empty, so that a rerun does not
    duplicate."""
    first_list = (
        select(TodoList.id)
        .where(TodoList.owner_id == owner_id, present(list_table))
        .order_by(TodoList.id)
        .limit(1)
    )
    inbox = (await conn.execute(first_list)).scalar()
    if inbox is None:
        return
    any_todo = select(Todo.id).where(Todo.list_id == inbox, present(todo_table)).limit(1)
    if (await conn.execute(any_todo)).first() is None:
        await conn.execute(
            insert(Todo),
            [{"list_id": inbox, "title": "Try todoapp", "completed": False, "position": 1}],
        )
