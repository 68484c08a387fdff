"""Small helpers shared by the resource modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quart import request
from werkzeug.routing import IntegerConverter, Map, ValidationError

from ..domain.schemas import BIGINT_MAX, CANONICAL_ID, parse_id
from ..edge.problems import Problem


class IdConverter(IntegerConverter):
    """`<id:...>` in routes: a positive PostgreSQL bigint in its one canonical spelling.
    Anything else ("01", Arabic or full-width digits, past bigint) names nothing: 404, not an
    alias of an id and not a database error. (An IntegerConverter: OpenAPI says integer.)"""

    regex = CANONICAL_ID.pattern

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=BIGINT_MAX)  # OpenAPI documents the range

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValidationError()
        return parsed


# host_url per (scheme, Host, server, root path): werkzeug works it out afresh at every call
# (host parsing, IRI decoding), about 5 % of a small GET. Hosts are few (hosts.py refuses
# names it does not serve); the cache starts over if odd ports ever fill it.
_HOST_URLS: dict[tuple[Any, ...], str] = {}
_HOST_URLS_MAX = 64


def host_url() -> str:
    """The request's scheme://host/ (with its root path): the base of every absolute URL."""
    key = (request.scheme, request.headers.get("Host"), request.server, request.root_path)
    url = _HOST_URLS.get(key)
    if url is None:
        if len(_HOST_URLS) >= _HOST_URLS_MAX:
            _HOST_URLS.clear()
        url = _HOST_URLS[key] = request.host_url
    return url


def not_found(kind: str, item_id: int) -> Problem:
    return Problem(404, "not-found", f"There is no {kind} with id {item_id}.")


def forbidden(detail: str) -> Problem:
    """403: the caller can see the resource (so its existence is no secret) but their role
    on its list does not allow this."""
    return Problem(403, "forbidden", detail)


READ_ONLY = "This list is shared with you as a viewer: you can read it but not change it."
OWNER_ONLY = "Only the owner of this list can do that."


# Where @answers leaves its declaration for the OpenAPI document (api/openapi.py).
ANSWERS = "todoapp_answers"


@dataclass(frozen=True)
class Answers:
    success: Any  # the body's shape; None: no body
    status: int
    problems: tuple[int, ...]
    media_type: str


def answers(
    success: Any, *problems: int, status: int = 200, media_type: str = "application/json"
) -> Callable[[Any], Any]:
    """Document what a route answers: its success (`success` with `status`; None for no
    body) and the problem+json statuses it can give."""

    def decorator(func: Any) -> Any:
        setattr(func, ANSWERS, Answers(success, status, problems, media_type))
        return func

    return decorator
