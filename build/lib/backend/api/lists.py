"""/api/lists: todo lists, each with counts of its active and completed todos."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field
from quart import Blueprint, Response, request
from quart_schema import document_response, validate_querystring, validate_request

from .. import db, queries
from ..queries import Row
from ..schemas import ListCreate, ListOut, ListUpdate
from .common import json_response, not_found

bp = Blueprint("lists", __name__, url_prefix="/api/lists")


class ListQuery(BaseModel):
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


def list_json(row: Row, base_url: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "active_count": row["active_count"],
        "completed_count": row["completed_count"],
        "url": f"{base_url}/{row['id']}",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _base_url() -> str:
    return request.host_url + "api/lists"


@bp.get("")
@validate_querystring(ListQuery)
@document_response(list[ListOut])
async def list_lists(query_args: ListQuery) -> Response:
    async with db.transaction() as session:
        rows = await queries.list_lists(session, limit=query_args.limit)
    base = _base_url()
    return json_response([list_json(row, base) for row in rows])


@bp.post("")
@validate_request(ListCreate)
@document_response(ListOut, 201)
async def create_list(data: ListCreate) -> Response:
    async with db.transaction() as session:
        row = await queries.create_list(session, data.name)
    body = list_json(row, _base_url())
    return json_response(body, 201, headers={"Location": body["url"]})


@bp.get("/<int:list_id>")
@document_response(ListOut)
async def get_list(list_id: int) -> Response:
    async with db.transaction() as session:
        row = await queries.get_list(session, list_id)
    if row is None:
        raise not_found("list", list_id)
    return json_response(list_json(row, _base_url()))


@bp.patch("/<int:list_id>")
@validate_request(ListUpdate)
@document_response(ListOut)
async def update_list(list_id: int, data: ListUpdate) -> Response:
    async with db.transaction() as session:
        row = await queries.rename_list(session, list_id, data.name)
    if row is None:
        raise not_found("list", list_id)
    return json_response(list_json(row, _base_url()))


@bp.delete("/<int:list_id>")
async def delete_list(list_id: int) -> Response:
    async with db.transaction() as session:
        deleted = await queries.delete_list(session, list_id)
    if not deleted:
        raise not_found("list", list_id)
    return Response(status=204)
