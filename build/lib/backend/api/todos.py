"""/api/todos: the Todo-Backend compatible todo resource."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request
from quart_schema import document_response, validate_querystring, validate_request

from .. import db, queries
from ..problems import Problem
from ..queries import Row
from ..schemas import TodoCreate, TodoFilter, TodoOut, TodoQuery, TodoUpdate
from .common import json_response, not_found

bp = Blueprint("todos", __name__, url_prefix="/api/todos")


def todo_json(row: Row, base_url: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "list_id": row["list_id"],
        "title": row["title"],
        "completed": row["completed"],
        "order": row["position"],
        "url": f"{base_url}/{row['id']}",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _base_url() -> str:
    return request.host_url + "api/todos"


def no_such_list(list_id: int) -> Problem:
    return Problem(
        422,
        "validation-error",
        f"There is no list with id {list_id}.",
        [{"pointer": "/list_id", "detail": "no such list"}],
    )


@bp.get("")
@validate_querystring(TodoQuery)
@document_response(list[TodoOut])
async def list_todos(query_args: TodoQuery) -> Response:
    async with db.transaction() as session:
        rows = await queries.list_todos(
            session,
            list_id=query_args.list_id,
            completed=query_args.completed,
            limit=query_args.limit,
        )
    base = _base_url()
    return json_response([todo_json(row, base) for row in rows])


@bp.post("")
@validate_request(TodoCreate)
@document_response(TodoOut, 201)
async def create_todo(data: TodoCreate) -> Response:
    async with db.transaction() as session:
        fields = data.model_dump()
        row = await queries.create_todo(session, **fields)
        if row is None and data.list_id is None:
            await queries.ensure_default_list(session)
            row = await queries.create_todo(session, **fields)
        if row is None:
            raise no_such_list(data.list_id or 0)
    body = todo_json(row, _base_url())
    return json_response(body, 201, headers={"Location": body["url"]})


@bp.delete("")
@validate_querystring(TodoFilter)
async def delete_todos(query_args: TodoFilter) -> Response:
    async with db.transaction() as session:
        await queries.delete_todos(
            session, list_id=query_args.list_id, completed=query_args.completed
        )
    return Response(status=204)


@bp.get("/<int:todo_id>")
@document_response(TodoOut)
async def get_todo(todo_id: int) -> Response:
    async with db.transaction() as session:
        row = await queries.get_todo(session, todo_id)
    if row is None:
        raise not_found("todo", todo_id)
    return json_response(todo_json(row, _base_url()))


@bp.patch("/<int:todo_id>")
@validate_request(TodoUpdate)
@document_response(TodoOut)
async def update_todo(todo_id: int, data: TodoUpdate) -> Response:
    async with db.transaction() as session:
        row = await queries.update_todo(session, todo_id, data.model_dump(exclude_unset=True))
    if row is None:
        raise not_found("todo", todo_id)
    return json_response(todo_json(row, _base_url()))


@bp.delete("/<int:todo_id>")
async def delete_todo(todo_id: int) -> Response:
    async with db.transaction() as session:
        deleted = await queries.delete_todo(session, todo_id)
    if not deleted:
        raise not_found("todo", todo_id)
    return Response(status=204)
