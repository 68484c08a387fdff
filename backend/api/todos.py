"""/api/todos: the Todo-Backend compatible todo resource, with ETags, keyset pages, search,
due dates, bulk create / toggle, Idempotency-Key on POST, and restore from the trash."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from quart import Blueprint, Response

from ..data import Row, db
from ..data import lists as list_store
from ..data import todos as store
from ..data.scope import VIEWER
from ..domain.schemas import (
    BulkResult,
    CreatedTodos,
    NewTodos,
    TodoBulkUpdate,
    TodoCreate,
    TodoCreateMany,
    TodoFilter,
    TodoIds,
    TodoOut,
    TodoQuery,
    TodoUpdate,
)
from ..edge.jsonio import json_response
from ..edge.problems import Problem
from . import pagination, trash, validation
from .common import READ_ONLY, answers, forbidden
from .conditional import etag, if_match_versions
from .idempotency import idempotent
from .representation import Representation

bp = Blueprint("todos", __name__, url_prefix="/api/todos")

TODOS = Representation("todo", TodoOut, "api/todos", lambda row: etag(row["version"]))
# Fields that place a todo rather than describe it: the positions logic handles them.
PLACEMENT = frozenset({"order", "list_id"})


def no_such_list(list_id: int | None, pointer: str = "/list_id") -> Problem:
    return Problem(
        422,
        "validation-error",
        f"There is no list with id {list_id}." if list_id else "There is no such list.",
        [{"pointer": pointer, "detail": "no such list"}],
    )


async def _refused_lists(list_ids: list[int], missing: Problem) -> Problem:
    """A write into these lists matched none the actor may change: 403 if one of them is
    shared with them as a viewer (they can see it), else `missing` (unknown, or not theirs:
    the same answer)."""
    async with db.statement() as work:
        roles = await list_store.roles(work, list_ids)
    return forbidden(READ_ONLY) if VIEWER in roles.values() else missing


def _filter(query: TodoFilter) -> store.Filter:
    return store.Filter(
        list_id=query.list_id,
        completed=query.completed,
        q=query.q,
        due_before=query.due_before,
        due_after=query.due_after,
        overdue=query.overdue,
        today=None if query.overdue is None else _today(query.tz),
    )


def _today(tz: str | None) -> date:
    """Today in the client's time zone (a validated IANA name), or in the server's TZ."""
    return datetime.now(ZoneInfo(tz)).date() if tz else date.today()


def _fields(todo: TodoCreate) -> dict[str, Any]:
    """The stored fields of a new todo (its placement is passed on its own)."""
    return todo.model_dump(exclude=PLACEMENT)


@bp.get("")
@validation.query(TodoQuery)
@answers(list[TodoOut], 422, 503)
async def list_todos(query: TodoQuery) -> Response:
    """A page of todos, filtered, searched and sorted.

    `q` is full-text search on titles (English stemming, `websearch_to_tsquery` syntax) and
    matches word prefixes too. Keyset pages: follow the `Link` header's `rel="next"` URL.
    """
    sort = query.sort.lstrip("-")
    after = pagination.decode_cursor(query.cursor, query.sort) if query.cursor else None
    where = _filter(query)
    async with db.transaction() if query.count else db.statement() as work:
        # One row more than asked tells whether there is a next page.
        rows = await store.list_todos(
            work,
            where,
            sort=sort,
            descending=query.sort.startswith("-"),
            after=after,
            limit=query.limit + 1,
        )
        total = await store.count_todos(work, where) if query.count else None
    key = store.SORT_COLUMNS[sort].name

    def cursor(last: Row) -> str:
        return pagination.encode_cursor(query.sort, last[key], last["id"])

    return TODOS.page(rows, query.limit, cursor, total)


@bp.post("")
@validation.body(TodoCreate, many=TodoCreateMany, document=NewTodos)
@idempotent
@answers(CreatedTodos, 400, 403, 415, 422, 503, status=201)
async def create_todo(data: TodoCreate | list[TodoCreate]) -> Response:
    """Create a todo, or up to 1,000 at once (all or none).

    Without `list_id` it goes to the default list, without `order` to the end of its list;
    a taken `order` shifts the todos from there on.
    """
    if isinstance(data, list):
        return await _create_many(data)
    try:
        if data.order is None:
            async with db.statement() as work:  # one INSERT, appending to the list
                row = await store.append_todo(work, _fields(data), data.list_id)
        else:
            async with db.transaction() as work:
                row = await store.insert_todo_at(work, _fields(data), data.list_id, data.order)
    except store.NoSuchList:
        if data.list_id is not None:
            raise await _refused_lists([data.list_id], no_such_list(data.list_id)) from None
        row = await _into_new_inbox(data)
    return TODOS.one(row, 201)


async def _into_new_inbox(data: TodoCreate) -> Row:
    """The actor has no list left (deleted concurrently): a todo needs a home."""
    async with db.transaction() as work:
        await list_store.ensure_default_list(work)
        return await store.insert_todo_at(work, _fields(data), None, data.order or 1)


async def _create_many(items: list[TodoCreate]) -> Response:
    async with db.transaction() as work:
        try:
            rows = await store.insert_many(
                work, [(_fields(item), item.list_id, item.order) for item in items]
            )
        except store.NoSuchList as missing:
            problem = Problem(
                422,
                "validation-error",
                "Some items name a list that does not exist; nothing was created.",
                [{"pointer": f"/{i}/list_id", "detail": "no such list"} for i in missing.indexes],
            )
            named = [items[i].list_id for i in missing.indexes]
            raise await _refused_lists([i for i in named if i is not None], problem) from None
    return TODOS.many(rows, 201)


@bp.patch("")
@validation.query(TodoFilter)
@validation.body(TodoBulkUpdate)
@answers(BulkResult, 400, 403, 415, 422, 503)
async def update_todos(query: TodoFilter, data: TodoBulkUpdate) -> Response:
    """Toggle all: set `completed` on every todo matching the filters (in lists the caller
    may change)."""
    async with db.statement() as work:
        count = await store.set_completed(work, _filter(query), data.completed)
    if count == 0 and query.list_id is not None:
        await _refuse_read_only(query.list_id)
    return json_response({"updated": count})


@bp.delete("")
@validation.query(TodoFilter)
@answers(None, 403, 422, 503, status=204)
async def delete_todos(query: TodoFilter) -> Response:
    """Delete the todos matching the filters (`completed=true&list_id=N`: clear completed),
    in the lists the caller may change.

    Without any filter it deletes every todo of the caller's own and editable lists. They go
    to the trash: for 10 minutes `POST /api/todos/restore` brings them back.
    """
    async with db.statement() as work:
        count = await store.delete_todos(work, _filter(query))
    if count == 0 and query.list_id is not None:
        await _refuse_read_only(query.list_id)
    await trash.now_and_then()
    return Response(status=204)


async def _refuse_read_only(list_id: int) -> None:
    """A bulk write that changed nothing in a named list: 403 if the list is one the caller
    only views (an unknown list, or somebody else's, just has nothing to change)."""
    async with db.statement() as work:
        roles = await list_store.roles(work, [list_id])
    if roles.get(list_id) == VIEWER:
        raise forbidden(READ_ONLY)


@bp.post("/restore")
@validation.body(TodoIds)
@answers(list[TodoOut], 400, 415, 422, 503)
async def restore_todos(data: TodoIds) -> Response:
    """Undo: take todos out of the trash as they were (place, list, fields). Answers those
    of them that are back (or were never deleted); the others are gone for good."""
    async with db.transaction() as work:
        rows = await store.restore_todos(work, data.ids)
    return TODOS.many(rows)


get_todo = TODOS.reader("get_todo", store.get_todo, "One todo, with its ETag.")
bp.get("/<id:todo_id>")(get_todo)


@bp.patch("/<id:todo_id>")
@validation.body(TodoUpdate)
@answers(TodoOut, 400, 403, 404, 412, 415, 422, 503)
async def update_todo(todo_id: int, data: TodoUpdate) -> Response:
    """Change a todo's fields; `order` and `list_id` move it.

    With `If-Match` the change happens only if nobody changed the todo since (else 412).
    """
    changes = data.model_dump(exclude_unset=True)
    versions = if_match_versions()
    if PLACEMENT & changes.keys():
        return TODOS.one(await _move(todo_id, changes, versions))
    if not changes:
        async with db.statement() as work:
            row = await store.get_todo(work, todo_id)
        if row is None or (versions is not None and row["version"] not in versions):
            raise await _why_not(todo_id)
        return TODOS.one(row)
    async with db.statement() as work:  # one UPDATE ... WHERE version matches
        row = await store.update_fields(work, todo_id, changes, versions)
    if row is None:
        raise await _why_not(todo_id)
    return TODOS.one(row)


async def _move(todo_id: int, changes: dict[str, Any], versions: list[int] | None) -> Row:
    list_id, order = changes.pop("list_id", None), changes.pop("order", None)
    async with db.transaction() as work:
        try:
            current = await store.lock_for_move(work, todo_id, list_id)
        except store.NoSuchList:
            raise await _refused_lists([list_id], no_such_list(list_id)) from None
        if current is None:
            raise await _why_not(todo_id)
        if versions is not None and current["version"] not in versions:
            raise TODOS.conflict(current)
        return await store.move_todo(
            work, current, list_id=list_id or current["list_id"], order=order, changes=changes
        )


async def _why_not(todo_id: int) -> Problem:
    """After a write matched nothing: 404 if the todo is gone (or not the caller's to see),
    403 if its list is only shared with them as a viewer, else 412 (its version moved on)."""
    async with db.transaction() as work:
        current = await store.get_todo(work, todo_id)
        if current is None:
            return TODOS.missing(todo_id)
        roles = await list_store.roles(work, [current["list_id"]])
    if roles.get(current["list_id"]) == VIEWER:
        return forbidden(READ_ONLY)
    return TODOS.conflict(current)


@bp.delete("/<id:todo_id>")
@answers(None, 403, 404, 412, 503, status=204)
async def delete_todo(todo_id: int) -> Response:
    """Delete a todo (with `If-Match`: only if it is unchanged).

    It goes to the trash: for 10 minutes `POST /api/todos/<id>/restore` brings it back.
    """
    async with db.statement() as work:
        deleted = await store.delete_todo(work, todo_id, if_match_versions())
    if not deleted:
        raise await _why_not(todo_id)
    await trash.now_and_then()
    return Response(status=204)


@bp.post("/<id:todo_id>/restore")
@answers(TodoOut, 404, 503)
async def restore_todo(todo_id: int) -> Response:
    """Undo a delete: the todo as it was; 404 if it is not in the trash (any more) and not
    here either, or its list is gone."""
    async with db.transaction() as work:
        rows = await store.restore_todos(work, [todo_id])
    if not rows:
        raise TODOS.missing(todo_id)
    return TODOS.one(rows[0])
