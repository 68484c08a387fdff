"""Every error as RFC 9457 problem+json, registered in one place.

Routes raise (a ``Problem``, a validation error, a database error) and never catch: the
transaction is rolled back by ``db.transaction`` and the handlers here pick the answer.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from pydantic import ValidationError
from quart import Quart, Response, current_app
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = "1"


class Problem(Exception):
    """An error the API reports as it is (status, slug, detail, optional field errors)."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.errors, self.headers, self.extra = errors, headers or {}, extra or {}


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:todoapp:problem:{problem.slug}",
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update(problem.extra)
    response = current_app.response_class(
        current_app.json.dumps(body), status=problem.status, content_type=PROBLEM_TYPE
    )
    response.headers.update(problem.headers)
    return response


def _pointer(loc: tuple[int | str, ...]) -> str:
    return "/" + "/".join(str(part) for part in loc) if loc else ""


def field_errors(
    error: ValidationError, prefix: tuple[int | str, ...] = ()
) -> list[dict[str, str]]:
    return [
        {"pointer": _pointer(prefix + tuple(e["loc"])), "detail": e["msg"]}
        for e in error.errors(include_url=False)
    ]


def unavailable(detail: str) -> Problem:
    return Problem(503, "unavailable", detail, headers={"Retry-After": RETRY_AFTER_SECONDS})


# Constraint names (from the migrations) that map to one field of the request body.
_CONSTRAINT_FIELDS = {
    "todo_lists_name_key": ("/name", "A list with this name already exists."),
    "todos_list_id_fkey": ("/list_id", "There is no such list (or it was just deleted)."),
}

_SQLSTATE_PROBLEMS = {
    "23505": (409, "conflict", "A resource with these values already exists."),
    "23503": (422, "validation-error", "A referenced resource does not exist."),
    "23514": (422, "validation-error", "A value is out of its allowed range."),
    "23502": (422, "validation-error", "A required value is missing."),
    "22001": (422, "validation-error", "A value is too long."),
    "22003": (422, "validation-error", "A number is out of range."),
    "57014": (503, "unavailable", "The database took too long to answer."),
    "40001": (503, "unavailable", "A concurrent change got in the way; retry."),
    "40P01": (503, "unavailable", "A concurrent change got in the way; retry."),
}


def database_problem(error: sa_exc.DBAPIError) -> Problem:
    cause = getattr(error.orig, "__cause__", None) or error.orig
    sqlstate = getattr(cause, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if sqlstate in _SQLSTATE_PROBLEMS:
        status, slug, detail = _SQLSTATE_PROBLEMS[sqlstate]
        errors = None
        constraint = getattr(cause, "constraint_name", None)
        if constraint in _CONSTRAINT_FIELDS:
            pointer, detail = _CONSTRAINT_FIELDS[constraint]
            errors = [{"pointer": pointer, "detail": detail}]
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
        return Problem(status, slug, detail, errors, headers=headers)
    if error.connection_invalidated or isinstance(
        cause, OSError | asyncpg.PostgresConnectionError | asyncpg.InterfaceError
    ):
        return unavailable("The database is unreachable; retry shortly.")
    log.error("unexpected database error", exc_info=error)
    return Problem(500, "internal-error", "An unexpected error occurred.")


def init_app(app: Quart) -> None:
    @app.errorhandler(Problem)
    async def on_problem(problem: Problem) -> Response:
        return problem_response(problem)

    @app.errorhandler(HTTPException)
    async def on_http_error(error: HTTPException) -> Response:
        code = error.code or 500
        detail = {
            400: "The request body is not valid JSON.",
            404: "No such resource.",
            405: "This method is not allowed on this resource.",
            413: "The request body is larger than the limit of 1 MiB.",
        }.get(code, error.description or "")
        response = problem_response(Problem(code, _slug(code), detail))
        if code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return response

    @app.errorhandler(sa_exc.DBAPIError)
    async def on_database_error(error: sa_exc.DBAPIError) -> Response:
        return problem_response(database_problem(error))

    @app.errorhandler(sa_exc.TimeoutError)
    async def on_pool_timeout(error: sa_exc.TimeoutError) -> Response:
        return problem_response(unavailable("The server is busy; retry shortly."))

    @app.errorhandler(OSError)
    async def on_os_error(error: OSError) -> Response:
        # asyncpg raises plain OSError (connection refused) when opening a new connection.
        log.warning("database connection failed: %s", error)
        return problem_response(unavailable("The database is unreachable; retry shortly."))

    @app.errorhandler(TimeoutError)
    async def on_timeout(error: TimeoutError) -> Response:
        log.warning("timed out: %r", error)
        return problem_response(unavailable("The database did not answer in time; retry shortly."))

    @app.errorhandler(Exception)
    async def on_unexpected(error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return problem_response(Problem(500, "internal-error", "An unexpected error occurred."))


def _slug(code: int) -> str:
    return {
        400: "malformed-request",
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
        415: "unsupported-media-type",
    }.get(code, f"http-{code}")
