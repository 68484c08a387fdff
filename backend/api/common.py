"""Small helpers shared by the resource modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart import Response, current_app
from quart_schema import document_response

from ..problems import Problem
from ..schemas import Problem as ProblemOut

# Ids are PostgreSQL bigints: a larger number in a path cannot name anything (404, not 500).
ID = "int(min=1, max=9223372036854775807)"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return current_app.response_class(
        current_app.json.dumps(body),
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
