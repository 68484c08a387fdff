"""What an actor may see: the WHERE conditions every query adds, owned here and nowhere else.

Todos are reached through their list, so a todo is visible when its list is. Rows in the
trash (deleted, waiting for an undo or the purge: data/trash.py) are visible to nobody: a
list's todos go with it without being marked themselves, so restoring the list brings back
exactly the todos it had. "Reachable" rows are the actor's whether in the trash or not
(what an undo may restore). With the one implicit user everything is reachable and the
trash is all there is; ownership and sharing become a change of these functions.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, select

from ..domain.actor import Actor
from .models import Todo, TodoList

todos = Todo.__table__
lists = TodoList.__table__


def present(table: Table) -> ColumnElement[bool]:
    """Not in the trash."""
    return table.c.deleted_at.is_(None)


def reachable_lists(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todo_lists` rows of the actor, in the trash or not."""
    return []


def visible_lists(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todo_lists` rows the actor may see."""
    return [present(lists), *reachable_lists(actor)]


def reachable_todos(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todos` rows of the actor, in the trash or not: those of a visible list
    (a todo of a deleted list comes back with its list, not on its own)."""
    return [todos.c.list_id.in_(select(lists.c.id).where(*visible_lists(actor)))]


def visible_todos(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todos` rows the actor may see (through their list)."""
    return [present(todos), *reachable_todos(actor)]
