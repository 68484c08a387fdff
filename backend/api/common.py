"""Small helpers shared by the resource modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from quart import Response, current_app
from quart_schema import document_response
from werkzeug.routing import IntegerConverter, ValidationError

from ..domain.schemas import CANONICAL_ID, parse_id
from ..domain.schemas import Problem as ProblemOut
from ..edge.problems import Problem


class IdConverter(IntegerConverter):
    """`<id:...>` in routes: a positive PostgreSQL bigint in its one canonical spelling.
    Anything else ("01", Arabic or full-width digits, past bigint) names nothing: 404, not an
    alias of an id and not a database error. (An IntegerConverter: OpenAPI says integer.)"""

    regex = CANONICAL_ID.pattern

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValidationError()
        return parsed


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # orjson's bytes go straight into the response (no str round trip).
    return current_app.response_class(
        orjson.dumps(body),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def not_found(kind: str, item_id: int) -> Problem:
    return Problem(404, "not-found", f"There is no {kind} with id {item_id}.")


def problems(*statuses: int) -> Callable[[Any], Any]:
    """Document the problem+json answers a route can give, next to its success."""

    def decorator(func: Any) -> Any:
        for status in statuses:
            document_response(ProblemOut, status)(func)
        return func

    return decorator
