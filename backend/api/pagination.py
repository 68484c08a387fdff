"""Keyset pagination: an opaque cursor and the RFC 8288 `Link: <...>; rel="next"` header."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from quart import Response, request

from ..edge.problems import Problem


def encode_cursor(sort: str, value: Any, last_id: int) -> str:
    """The last row's sort key (None for a todo without a due date) and id, with the sort
    it belongs to; base64url, no padding."""
    if isinstance(value, date):  # a datetime is a date too
        value = value.isoformat()
    raw = orjson.dumps([sort, value, last_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, last_id = orjson.loads(raw)
        if made_for != sort or not isinstance(last_id, int):
            raise ValueError
        if sort.lstrip("-") in ("created_at", "updated_at"):
            value = datetime.fromisoformat(value)
        elif sort.lstrip("-") == "due":
            value = None if value is None else date.fromisoformat(value)
        elif not isinstance(value, int):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
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
