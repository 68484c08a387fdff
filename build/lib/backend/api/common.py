"""Small helpers shared by the resource modules."""

from __future__ import annotations

from typing import Any

from quart import Response, current_app

from ..problems import Problem


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return current_app.response_class(
        current_app.json.dumps(body),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def not_found(kind: str, item_id: int) -> Problem:
    return Problem(404, "not-found", f"There is no {kind} with id {item_id}.")
