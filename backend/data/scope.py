"""What an actor may see: the WHERE conditions every query adds, owned here and nowhere else.

Todos are reached through their list, so a todo is visible when its list is. With the one
implicit user everything is visible and the conditions are empty (no SQL cost); ownership
and sharing become a change of these two functions.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from ..domain.actor import Actor
from .models import Todo, TodoList

todos = Todo.__table__
lists = TodoList.__table__


def visible_lists(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todo_lists` rows the actor may see."""
    return []


def visible_todos(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todos` rows the actor may see (through their list)."""
    return []
