"""What an actor may see and change: the WHERE conditions every query adds, owned here and
nowhere else.

A list is visible to its owner and to the users it is shared with (list_members), editable
by its owner and its editors, and owned by one user. Todos are reached through their list:
a todo is visible (editable) when its list is.

Rows in the trash (deleted, waiting for an undo or the purge: data/trash.py) are visible to
nobody: a list's todos go with it without being marked themselves, so restoring the list
brings back exactly the todos it had. "Reachable" rows are the actor's whether in the trash
or not (what an undo may restore).

Each condition is "the list id is one of the actor's": `list_id = ANY(ARRAY(<the actor's
list ids>))`. The array is computed once per statement (an InitPlan) from the
(owner_id, name) and (user_id, list_id) indexes, and testing a row against it is cheap; an
`IN (subquery)` instead let the planner pick a semi-join that re-scanned the ids for every
todo it looked at (15 ms instead of 1.4 ms for a page, measured with 200 users' 100,000
todos: bench/rls_cost.py's data).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, any_, case, func, literal, select, union_all

from ..domain.actor import Actor
from .models import ListMember, Todo, TodoList

todos = Todo.__table__
lists = TodoList.__table__
members = ListMember.__table__

OWNER, EDITOR, VIEWER = "owner", "editor", "viewer"


def _list_ids(actor: Actor, *roles: str, trashed: bool = False) -> Any:
    """ARRAY(the ids of the lists the actor owns, and of those shared with them in one of
    `roles`; those in the trash too when `trashed`)."""
    owned = select(lists.c.id).where(lists.c.owner_id == actor.user_id)
    shared = (
        select(members.c.list_id)
        .join(lists, lists.c.id == members.c.list_id)
        .where(members.c.user_id == actor.user_id, members.c.role.in_(roles))
    )
    if not trashed:
        owned = owned.where(present(lists))
        shared = shared.where(present(lists))
    return any_(func.array(union_all(owned, shared).scalar_subquery()))


def present(table: Table) -> ColumnElement[bool]:
    """Not in the trash."""
    return table.c.deleted_at.is_(None)


def reachable_lists(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todo_lists` rows the actor owns, in the trash or not (what they may
    restore)."""
    return [lists.c.owner_id == actor.user_id]


def visible_lists(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todo_lists` rows the actor may see."""
    return [present(lists), lists.c.id == _list_ids(actor, EDITOR, VIEWER)]


def editable_lists(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todo_lists` rows whose name and todos the actor may change."""
    return [present(lists), lists.c.id == _list_ids(actor, EDITOR)]


def owned_lists(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todo_lists` rows the actor owns (delete, share)."""
    return [present(lists), lists.c.owner_id == actor.user_id]


def reachable_todos(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todos` rows the actor may change, in the trash or not: those of a
    visible, editable list (a todo of a deleted list comes back with its list)."""
    return [todos.c.list_id == _list_ids(actor, EDITOR)]


def visible_todos(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todos` rows the actor may see (through their list)."""
    return [present(todos), todos.c.list_id == _list_ids(actor, EDITOR, VIEWER)]


def editable_todos(actor: Actor) -> list[ColumnElement[bool]]:
    """Conditions on `todos` rows the actor may change (through their list)."""
    return [present(todos), todos.c.list_id == _list_ids(actor, EDITOR)]


def role(actor: Actor) -> ColumnElement[str]:
    """The actor's role on a `todo_lists` row: owner, editor or viewer (None: not theirs)."""
    shared = (
        select(members.c.role)
        .where(members.c.list_id == lists.c.id, members.c.user_id == actor.user_id)
        .scalar_subquery()
    )
    return case((lists.c.owner_id == actor.user_id, literal(OWNER)), else_=shared)
