"""/api/lists: todo lists, each with counts of its active and completed todos; a deleted list
goes to the trash with its todos and can be restored for a while."""

from __future__ import annotations

from quart import Blueprint, Response

from ..data import Row, db
from ..data import lists as store
from ..data.scope import OWNER, VIEWER
from ..domain.schemas import ListCreate, ListOut, ListUpdate, Page
from ..edge.problems import Problem
from . import pagination, trash, validation
from .common import OWNER_ONLY, READ_ONLY, answers, forbidden
from .conditional import etag, if_match_versions
from .idempotency import idempotent
from .representation import Representation

bp = Blueprint("lists", __name__, url_prefix="/api/lists")


def list_etag(row: Row) -> str:
    # The counts and the caller's role are part of the representation, so they are part of
    # its ETag; If-Match compares only the version (the list's own fields), see
    # conditional.if_match_versions.
    return etag(row["version"], row["active_count"], row["completed_count"], row["role"])


LISTS = Representation("list", ListOut, "api/lists", list_etag)


def _cursor(last: Row) -> str:
    return pagination.encode_cursor("id", last["id"], last["id"])


@bp.get("")
@validation.query(Page)
@answers(list[ListOut], 422, 503)
async def list_lists(query: Page) -> Response:
    """A page of lists by id, each with the counts of its active and completed todos."""
    after = pagination.decode_cursor(query.cursor, "id")[1] if query.cursor else None
    async with db.transaction() if query.count else db.statement() as work:
        rows = await store.list_lists(work, after=after, limit=query.limit + 1)
        total = await store.count_lists(work) if query.count else None
    return LISTS.page(rows, query.limit, _cursor, total)


@bp.post("")
@validation.body(ListCreate)
@idempotent
@answers(ListOut, 400, 409, 415, 422, 503, status=201)
async def create_list(data: ListCreate) -> Response:
    """Create a list (names are unique: 409 if taken)."""
    async with db.transaction() as work:
        row = await store.create_list(work, data.name)
    return LISTS.one(row, 201)


get_list = LISTS.reader("get_list", store.get_list, "One list, with its ETag (and counts).")
bp.get("/<id:list_id>")(get_list)


@bp.patch("/<id:list_id>")
@validation.body(ListUpdate)
@answers(ListOut, 400, 403, 404, 409, 412, 415, 422, 503)
async def update_list(list_id: int, data: ListUpdate) -> Response:
    """Rename a list.

    `If-Match` compares the list's own version, so new todos in it do not make a rename fail.
    """
    versions = if_match_versions()
    async with db.transaction() as work:
        renamed = data.name is not None and await store.rename_list(
            work, list_id, data.name, versions
        )
        row = await store.get_list(work, list_id)
        if row is None:
            raise LISTS.missing(list_id)
        if data.name is not None and row["role"] == VIEWER:
            raise forbidden(READ_ONLY)
        if versions is not None and not renamed and row["version"] not in versions:
            raise LISTS.conflict(row)
    return LISTS.one(row)


@bp.delete("/<id:list_id>")
@answers(None, 403, 404, 409, 412, 503, status=204)
async def delete_list(list_id: int) -> Response:
    """Delete a list and its todos (not the only list left: 409)."""
    versions = if_match_versions()
    async with db.transaction() as work:
        if not await store.delete_list(work, list_id, versions):
            raise _why_not(await store.get_list(work, list_id), list_id, versions)
    await trash.now_and_then()
    return Response(status=204)


@bp.post("/<id:list_id>/restore")
@answers(ListOut, 404, 409, 503)
async def restore_list(list_id: int) -> Response:
    """Undo a delete: the list with the todos it had; 404 if it is neither in the trash
    (any more) nor here, 409 if another list took its name meanwhile."""
    async with db.transaction() as work:
        await store.restore_list(work, list_id)
        row = await store.get_list(work, list_id)
    if row is None:
        raise LISTS.missing(list_id)
    return LISTS.one(row)


def _why_not(row: Row | None, list_id: int, versions: list[int] | None) -> Problem:
    """After a delete matched nothing: gone or not theirs to see (404), not theirs (403),
    changed (412), or the actor's last list (409)."""
    if row is None:
        return LISTS.missing(list_id)
    if row["role"] != OWNER:
        return forbidden(OWNER_ONLY)
    if versions is not None and row["version"] not in versions:
        return LISTS.conflict(row)
    return Problem(
        409,
        "last-list",
        "This is your only list, and there is always at least one; create another first.",
    )
