"""Small helpers shared by the resource modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from quart import Response, current_app
from quart_schema import document_response
from werkzeug.routing import IntegerConverter, Map

from ..domain.schemas import Problem as ProblemOut
from ..edge.problems import Problem


class IdConverter(IntegerConverter):
    """`<id:...>` in routes: a positive PostgreSQL bigint. A larger number cannot name
    anything, so it is a 404 rather than a database error."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=2**63 - 1)


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


def answers(success: Any, *problems: int, status: int = 200) -> Callable[[Any], Any]:
    """Document what a route answers: its success (`success` with `status`; None for no
    body) and the problem+json statuses it can give."""

    def decorator(func: Any) -> Any:
        if success is not None:
            document_response(success, status)(func)
        for problem in problems:
            document_response(ProblemOut, problem)(func)
        return func

    return decorator
