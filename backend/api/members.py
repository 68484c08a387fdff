"""/api/lists/<id>/members: sharing a list. The owner adds a user as editor or viewer,
changes their role or removes them; a member may leave; anyone who sees the list sees who
else does. A list the caller cannot see is a 404, like a missing one."""

from __future__ import annotations

import re

from quart import Blueprint, Response

from ..data import db, users
from ..data import lists as list_store
from ..data import members as store
from ..data.db import Work
from ..data.scope import OWNER
from ..domain.actor import current
from ..domain.schemas import USERNAME_PATTERN, MemberOut, MemberSet
from ..edge.jsonio import json_response
from ..edge.problems import Problem
from . import validation
from .common import OWNER_ONLY, answers, forbidden, not_found

bp = Blueprint("members", __name__, url_prefix="/api/lists/<id:list_id>/members")

_USERNAME = re.compile(USERNAME_PATTERN)


async def _role(work: Work, list_id: int) -> str:
    """The caller's role on the list; 404 if they cannot see it."""
    role = (await list_store.roles(work, [list_id])).get(list_id)
    if role is None:
        raise not_found("list", list_id)
    return role


async def _user(work: Work, username: str) -> dict[str, object]:
    user = await users.by_name(work, username) if _USERNAME.fullmatch(username) else None
    if user is None:
        raise Problem(404, "not-found", f"There is no user named {username!r}.")
    return dict(user)


@bp.get("")
@answers(list[MemberOut], 401, 404, 503)
async def list_members(list_id: int) -> Response:
    """Who has the list: its owner, then editors and viewers by name."""
    async with db.transaction() as work:
        await _role(work, list_id)
        rows = await store.list_members(work, list_id)
    return json_response([{"username": r["username"], "role": r["role"]} for r in rows])


@bp.put("/<username>")
@validation.body(MemberSet)
@answers(MemberOut, 400, 401, 403, 404, 415, 422, 503)
async def set_member(list_id: int, username: str, data: MemberSet) -> Response:
    """Share the list with `username` as editor or viewer (owner only)."""
    async with db.transaction() as work:
        if await _role(work, list_id) != OWNER:
            raise forbidden(OWNER_ONLY)
        user = await _user(work, username)
        if user["id"] == current().user_id:
            raise Problem(
                422,
                "validation-error",
                "You own this list; share it with somebody else.",
                [{"pointer": "/username", "detail": "the owner"}],
            )
        await store.set_member(work, list_id, user["id"], data.role)  # type: ignore[arg-type]
    return json_response({"username": user["username"], "role": data.role})


@bp.delete("/<username>")
@answers(None, 401, 403, 404, 503, status=204)
async def remove_member(list_id: int, username: str) -> Response:
    """Stop sharing the list with `username`: the owner removes anyone, a member leaves."""
    async with db.transaction() as work:
        role = await _role(work, list_id)
        user = await _user(work, username)
        if role != OWNER and user["id"] != current().user_id:
            raise forbidden(OWNER_ONLY)
        if not await store.remove_member(work, list_id, user["id"]):  # type: ignore[arg-type]
            raise Problem(404, "not-found", f"This list is not shared with {username!r}.")
    return Response(status=204)
