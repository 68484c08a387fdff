"""The trash: DELETE moves todos and lists here, undo restores them, the purge empties it.

Why a trash on the server rather than a delayed DELETE in the browser: the undo must still
work after a reload, and the data must not depend on a tab staying open (a delayed DELETE
is lost with its tab, and until it is sent every other device still shows the item). So a
DELETE takes effect at once for everyone (the row is invisible: data/scope.py) and keeps
the row as it was: title, state, notes, due date, list, and its position, which the
positions code keeps shifting with its neighbours. A restore within KEEP_FOR clears the
mark and nothing else, so the item comes back exactly where and as it was.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, Table, delete, func

from .db import Work
from .models import Todo, TodoList

# How long a deleted todo or list can be restored. The web app offers undo for 8 seconds;
# the margin covers a slow network, a reload, and a client that retries.
KEEP_FOR = timedelta(minutes=10)

todos = Todo.__table__
lists = TodoList.__table__


def restorable(table: Table) -> ColumnElement[bool]:
    """In the trash, and recently enough to come back."""
    return table.c.deleted_at > func.now() - KEEP_FOR


async def purge(work: Work) -> int:
    """Delete for good what stayed in the trash past KEEP_FOR (a transaction). A list's
    todos go with it (ON DELETE CASCADE). Returns how many rows went."""
    expired = func.now() - KEEP_FOR
    count = await work.rowcount(delete(todos).where(todos.c.deleted_at < expired))
    return count + await work.rowcount(delete(lists).where(lists.c.deleted_at < expired))
