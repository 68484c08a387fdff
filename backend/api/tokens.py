"""/api/tokens: personal access tokens of the signed-in user, for scripts
(``Authorization: Bearer <token>``). The secret is in the answer to its creation only."""

from __future__ import annotations

from quart import Blueprint, Response

from ..data import credentials, db
from ..domain.schemas import NewTokenOut, TokenCreate, TokenOut
from ..edge import auth as edge
from ..edge.jsonio import json_response
from . import validation
from .common import answers, not_found

bp = Blueprint("tokens", __name__, url_prefix="/api/tokens")

FIELDS = tuple(TokenOut.model_fields)


def _body(row: object) -> dict[str, object]:
    return {name: row[name] for name in FIELDS}  # type: ignore[index]


@bp.get("")
@answers(list[TokenOut], 401, 503)
async def list_tokens() -> Response:
    """Your access tokens, with when each was last used (never their secrets)."""
    async with db.statement() as work:
        rows = await credentials.list_tokens(work)
    return json_response([_body(row) for row in rows])


@bp.post("")
@validation.body(TokenCreate)
@answers(NewTokenOut, 400, 401, 415, 422, 503, status=201)
async def create_token(data: TokenCreate) -> Response:
    """A new access token: its secret is in this answer, and only here."""
    async with db.statement() as work:
        row, secret = await credentials.create_token(work, data.name)
    return json_response({**_body(row), "token": secret}, 201)


@bp.delete("/<id:token_id>")
@answers(None, 401, 404, 503, status=204)
async def revoke_token(token_id: int) -> Response:
    """Revoked at once: this process forgets it now, the others within a second."""
    async with db.statement() as work:
        secret_hash = await credentials.revoke_token(work, token_id)
    if secret_hash is None:
        raise not_found("token", token_id)
    edge.cache().drop(("token", secret_hash))
    return Response(status=204)
