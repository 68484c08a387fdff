"""/api/todos: the Todo-Backend compatible todo resource, with ETags, keyset pages, search,
bulk create / toggle, and Idempotency-Key on POST."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request
from quart_schema import document_response

from ..data import Row, db
from ..data import todos as store
from ..domain.schemas import (
    BulkResult,
    CreatedTodos,
    NewTodos,
    TodoBulkUpdate,
    TodoCreate,
    TodoCreateMany,
    TodoFilter,
    TodoOut,
    TodoQuery,
    TodoUpdate,
)
from ..edge.jsonio import json_response
from ..edge.problems import Problem
from . import pagination, validation
from .common import not_found, problems
from .conditional import etag, if_match_versions, not_modified, precondition_failed
from .idempotency import idempotent

bp = Blueprint("todos", __name__, url_prefix="/api/todos")


def todo_json(row: Row, base_url: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "list_id": row["list_id"],
        "title": row["title"],
        "completed": row["completed"],
        "order": row["position"],
        "version": row["version"],
        "url": f"{base_url}/{row['id']}",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _base_url() -> str:
    return request.host_url + "api/todos"


def one_todo(row: Row, status: int = 200) -> Response:
    body = todo_json(row, _base_url())
    headers = {"ETag": etag(row["version"])}
    if status == 201:
        headers["Location"] = body["url"]
    return json_response(body, status, headers)


def no_such_list(list_id: int | None, pointer: str = "/list_id") -> Problem:
    return Problem(
        422,
        "validation-error",
        f"There is no list with id {list_id}." if list_id else "There is no such list.",
        [{"pointer": pointer, "detail": "no such list"}],
    )


def _filter(query: TodoFilter) -> store.Filter:
    return store.Filter(list_id=query.list_id, completed=query.completed, q=query.q)


@bp.get("")
@validation.query(TodoQuery)
@document_response(list[TodoOut])
@problems(422, 503)
async def list_todos(query: TodoQuery) -> Response:
    sort = query.sort.lstrip("-")
    descending = query.sort.startswith("-")
    after = pagination.decode_cursor(query.cursor, query.sort) if query.cursor else None
    where = _filter(query)
    async with db.transaction() if query.count else db.statement() as session:
        # One row more than asked tells whether there is a next page.
        rows = await store.list_todos(
            session, where, sort=sort, descending=descending, after=after, limit=query.limit + 1
        )
        total = await store.count_todos(session, where) if query.count else None
    base = _base_url()
    response = json_response([todo_json(row, base) for row in rows[: query.limit]])
    if len(rows) > query.limit:
        last = rows[query.limit - 1]
        key = last["position"] if sort == "order" else last[sort]
        pagination.link_next(response, pagination.encode_cursor(query.sort, key, last["id"]))
    if total is not None:
        response.headers["X-Total-Count"] = str(total)
    return response


@bp.post("")
@validation.body(TodoCreate, many=TodoCreateMany, document=NewTodos)
@idempotent
@document_response(CreatedTodos, 201)
@problems(400, 415, 422, 503)
async def create_todo(data: TodoCreate | list[TodoCreate]) -> Response:
    if isinstance(data, list):
        return await _create_many(data)
    if data.order is None:
        async with db.statement() as session:  # one INSERT, appending to the list
            row = await store.append_todo(
                session, title=data.title, completed=data.completed, list_id=data.list_id
            )
    else:
        async with db.transaction() as session:
            row = await store.insert_todo_at(session, **data.model_dump())
    if row is None and data.list_id is None:  # every list was deleted: recreate the Inbox
        async with db.transaction() as session:
            await store.ensure_default_list(session)
            row = await store.insert_todo_at(
                session, **data.model_dump(exclude={"order"}), order=data.order or 1
            )
    if row is None:
        raise no_such_list(data.list_id)
    return one_todo(row, 201)


async def _create_many(items: list[TodoCreate]) -> Response:
    async with db.transaction() as session:
        result = await store.insert_many(session, [item.model_dump() for item in items])
        if result and isinstance(result[0], int):
            raise Problem(
                422,
                "validation-error",
                "Some items name a list that does not exist; nothing was created.",
                [{"pointer": f"/{i}/list_id", "detail": "no such list"} for i in result],
            )
    base = _base_url()
    return json_response([todo_json(row, base) for row in result], 201)  # type: ignore[arg-type]


@bp.patch("")
@validation.query(TodoFilter)
@validation.body(TodoBulkUpdate)
@document_response(BulkResult)
@problems(400, 415, 422, 503)
async def update_todos(query: TodoFilter, data: TodoBulkUpdate) -> Response:
    """Toggle all: set `completed` on every todo matching the filters."""
    async with db.statement() as session:
        count = await store.set_completed(session, _filter(query), data.completed)
    return json_response({"updated": count})


@bp.delete("")
@validation.query(TodoFilter)
@problems(422, 503)
async def delete_todos(query: TodoFilter) -> Response:
    async with db.statement() as session:
        await store.delete_todos(session, _filter(query))
    return Response(status=204)


@bp.get("/<id:todo_id>")
@document_response(TodoOut)
@problems(404, 503)
async def get_todo(todo_id: int) -> Response:
    async with db.statement() as session:
        row = await store.get_todo(session, todo_id)
    if row is None:
        raise not_found("todo", todo_id)
    return not_modified(etag(row["version"])) or one_todo(row)


@bp.patch("/<id:todo_id>")
@validation.body(TodoUpdate)
@document_response(TodoOut)
@problems(400, 404, 412, 415, 422, 503)
async def update_todo(todo_id: int, data: TodoUpdate) -> Response:
    changes = data.model_dump(exclude_unset=True)
    versions = if_match_versions()
    if "order" in changes or "list_id" in changes:
        row = await _move(todo_id, changes, versions)
    elif not changes:
        async with db.statement() as session:
            row = await store.get_todo(session, todo_id)
        if row is None or (versions is not None and row["version"] not in versions):
            raise await _why_not(todo_id)
    else:
        async with db.statement() as session:  # one UPDATE ... WHERE version matches
            row = await store.update_fields(session, todo_id, changes, versions)
        if row is None:
            raise await _why_not(todo_id)
    return one_todo(row)


async def _move(todo_id: int, changes: dict[str, Any], versions: list[int] | None) -> Row:
    async with db.transaction() as session:
        try:
            current = await store.lock_todo_lists(session, todo_id, changes.get("list_id"))
        except LookupError:
            raise no_such_list(changes.get("list_id")) from None
        if current is None:
            raise not_found("todo", todo_id)
        if versions is not None and current["version"] not in versions:
            raise precondition_failed(todo_json(current, _base_url()), etag(current["version"]))
        list_id = changes.pop("list_id", current["list_id"])
        order = changes.pop("order", None)
        return await store.move_todo(
            session, current, list_id=list_id, order=order, changes=changes
        )


async def _why_not(todo_id: int) -> Problem:
    """After a conditional write matched nothing: 404 if the todo is gone, else 412."""
    async with db.statement() as session:
        current = await store.get_todo(session, todo_id)
    if current is None:
        return not_found("todo", todo_id)
    return precondition_failed(todo_json(current, _base_url()), etag(current["version"]))


@bp.delete("/<id:todo_id>")
@problems(404, 412, 503)
async def delete_todo(todo_id: int) -> Response:
    async with db.statement() as session:
        deleted = await store.delete_todo(session, todo_id, if_match_versions())
    if not deleted:
        raise await _why_not(todo_id)
    return Response(status=204)
