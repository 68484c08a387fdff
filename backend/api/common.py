"""Small helpers shared by the resource modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart_schema import document_response
from werkzeug.routing import IntegerConverter, Map

from ..domain.schemas import Problem as ProblemOut
from ..edge.problems import Problem


class IdConverter(IntegerConverter):
    """`<id:...>` in routes: a positive PostgreSQL bigint. A larger number cannot name
    anything, so it is a 404 rather than a database error."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=2**63 - 1)


def not_found(kind: str, item_id: int) -> Problem:
    return Problem(404, "not-found", f"There is no {kind} with id {item_id}.")


def problems(*statuses: int) -> Callable[[Any], Any]:
    """Document the problem+json answers a route can give, next to its success."""

    def decorator(func: Any) -> Any:
        for status in statuses:
            document_response(ProblemOut, status)(func)
        return func

    return decorator
