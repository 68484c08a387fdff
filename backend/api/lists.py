"""/api/lists: todo lists, each with counts of its active and completed todos."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request
from quart_schema import document_response

from ..data import Row, db
from ..data import lists as store
from ..domain.schemas import ListCreate, ListOut, ListUpdate, Page
from ..edge.jsonio import json_response
from ..edge.problems import Problem
from . import pagination, validation
from .common import not_found, problems
from .conditional import etag, if_match_versions, not_modified, precondition_failed
from .idempotency import idempotent

bp = Blueprint("lists", __name__, url_prefix="/api/lists")


def list_json(row: Row, base_url: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "version": row["version"],
        "active_count": row["active_count"],
        "completed_count": row["completed_count"],
        "url": f"{base_url}/{row['id']}",
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def list_etag(row: Row) -> str:
    # The counts are part of the representation, so they are part of its ETag; If-Match
    # compares only the version (the list's own fields), see conditional.if_match_versions.
    return etag(row["version"], row["active_count"], row["completed_count"])


def _base_url() -> str:
    return request.host_url + "api/lists"


def one_list(row: Row, status: int = 200) -> Response:
    body = list_json(row, _base_url())
    headers = {"ETag": list_etag(row)}
    if status == 201:
        headers["Location"] = body["url"]
    return json_response(body, status, headers)


@bp.get("")
@validation.query(Page)
@document_response(list[ListOut])
@problems(422, 503)
async def list_lists(query: Page) -> Response:
    after = pagination.decode_cursor(query.cursor, "id")[1] if query.cursor else None
    async with db.transaction() if query.count else db.statement() as session:
        rows = await store.list_lists(session, after=after, limit=query.limit + 1)
        total = await store.count_lists(session) if query.count else None
    base = _base_url()
    response = json_response([list_json(row, base) for row in rows[: query.limit]])
    if len(rows) > query.limit:
        last = rows[query.limit - 1]["id"]
        pagination.link_next(response, pagination.encode_cursor("id", last, last))
    if total is not None:
        response.headers["X-Total-Count"] = str(total)
    return response


@bp.post("")
@validation.body(ListCreate)
@idempotent
@document_response(ListOut, 201)
@problems(400, 409, 415, 422, 503)
async def create_list(data: ListCreate) -> Response:
    async with db.transaction() as session:
        row = await store.create_list(session, data.name)
    return one_list(row, 201)


@bp.get("/<id:list_id>")
@document_response(ListOut)
@problems(404, 503)
async def get_list(list_id: int) -> Response:
    async with db.statement() as session:
        row = await store.get_list(session, list_id)
    if row is None:
        raise not_found("list", list_id)
    return not_modified(list_etag(row)) or one_list(row)


@bp.patch("/<id:list_id>")
@validation.body(ListUpdate)
@document_response(ListOut)
@problems(400, 404, 409, 412, 415, 422, 503)
async def update_list(list_id: int, data: ListUpdate) -> Response:
    versions = if_match_versions()
    async with db.transaction() as session:
        renamed = data.name is not None and await store.rename_list(
            session, list_id, data.name, versions
        )
        row = await store.get_list(session, list_id)
        if row is None:
            raise not_found("list", list_id)
        if versions is not None and not renamed and row["version"] not in versions:
            raise _conflict(row)
    return one_list(row)


@bp.delete("/<id:list_id>")
@problems(404, 412, 503)
async def delete_list(list_id: int) -> Response:
    async with db.transaction() as session:
        if not await store.delete_list(session, list_id, if_match_versions()):
            row = await store.get_list(session, list_id)
            raise not_found("list", list_id) if row is None else _conflict(row)
    return Response(status=204)


def _conflict(row: Row) -> Problem:
    return precondition_failed(list_json(row, _base_url()), list_etag(row))
