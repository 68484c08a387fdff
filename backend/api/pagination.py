"""Keyset pagination: an opaque cursor and the RFC 8288 `Link: <...>; rel="next"` header."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any
from urllib.parse import urlencode

import orjson
from pydantic import StrictStr, TypeAdapter, ValidationError
from quart import Response, request

from ..domain.schemas import Due, Id, Position, Timestamp
from ..edge.problems import Problem

# A cursor is [sort, key, id]: each part checked against the type and range of the column it
# is compared with, so a crafted cursor is a 422 and never an out-of-range driver parameter.
# Strict JSON: `true` is not an id, "1" is not a position.
_CURSORS: dict[str, TypeAdapter[tuple[str, Any, int]]] = {
    column: TypeAdapter(tuple[StrictStr, key, Id])  # type: ignore[valid-type]
    for column, key in {
        "order": Position,
        "created_at": Timestamp,
        "updated_at": Timestamp,
        "due": Due | None,  # todos without a date sort last, with a null key
        "id": Id,
    }.items()
}


def encode_cursor(sort: str, value: Any, last_id: int) -> str:
    """The last row's sort key (None for a todo without a due date) and id, with the sort
    it belongs to; base64url, no padding."""
    if isinstance(value, date):  # a datetime is a date too
        value = value.isoformat()
    raw = orjson.dumps([sort, value, last_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """The (key, id) a cursor of this sort holds; 422 for anything this API did not give out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, last_id = _CURSORS[sort.lstrip("-")].validate_json(raw, strict=True)
        if made_for != sort:
            raise ValueError
    except (ValueError, binascii.Error, ValidationError):
        raise Problem(
            422,
            "validation-error",
            "The cursor is not one this API gave out for this sort; start again without it.",
            [{"pointer": "/cursor", "parameter": "cursor", "detail": "invalid cursor"}],
        ) from None
    return value, last_id


def link_next(response: Response, cursor: str) -> None:
    args = request.args.to_dict()
    args["cursor"] = cursor
    url = f"{request.base_url}?{urlencode(args)}"
    response.headers["Link"] = f'<{url}>; rel="next"'
