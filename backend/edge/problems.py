"""Every error as RFC 9457 problem+json, registered in one place.

Routes raise (a ``Problem``, a validation error, a database error) and never catch: the
transaction is rolled back by ``db.transaction`` and the handlers here pick the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import asyncpg
import orjson
from pydantic import ValidationError
from quart import Quart, Response, current_app
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from .asgitypes import Send

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


def problem_body(problem: Problem) -> dict[str, Any]:
    """The problem's JSON object: the one definition of the shape every error has."""
    body: dict[str, Any] = {
        "type": f"urn:todoapp:problem:{problem.slug}",
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update(problem.extra)
    return body


def problem_response(problem: Problem) -> Response:
    response = current_app.response_class(
        current_app.json.dumps(problem_body(problem)),
        status=problem.status,
        content_type=PROBLEM_TYPE,
    )
    response.headers.update(problem.headers)
    return response


async def send_problem(send: Send, problem: Problem) -> None:
    """Answer with a problem straight from an ASGI middleware, before (or without) the app:
    the same body and headers as problem_response (security.py adds the common ones)."""
    body = orjson.dumps(problem_body(problem))
    headers = [
        (b"content-type", PROBLEM_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _pointer(loc: tuple[int | str, ...]) -> str:
    return "/" + "/".join(str(part) for part in loc) if loc else ""


def field_errors(
    error: ValidationError, prefix: tuple[int | str, ...] = ()
) -> list[dict[str, str]]:
    return [
        {"pointer": _pointer(prefix + loc), "detail": msg}
        for loc, msg in _without_absent_branches(error.errors(include_url=False))
    ]


def _without_absent_branches(errors: list[Any]) -> list[tuple[tuple[int | str, ...], str]]:
    """A field that may be left out but not null (`X | Absent`) is a union for pydantic: its
    errors name the branch (`/title/constrained-str`) and add the None branch's complaint
    (`/title/none`). Report them as the field's: `/title`, once."""
    unions = {tuple(e["loc"][:-1]) for e in errors if e["type"] == "none_required"}
    found = []
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "none_required" and loc[:-1] in unions:
            continue
        for at in range(len(loc) - 1, -1, -1):  # the innermost union wins
            if loc[:at] in unions:
                loc = loc[:at] + loc[at + 1 :]
                break
        found.append((loc, e["msg"]))
    return found


def unavailable(detail: str) -> Problem:
    return Problem(503, "unavailable", detail, headers={"Retry-After": RETRY_AFTER_SECONDS})


# Constraint names (from the migrations) that map to one field of the request body.
_CONSTRAINT_FIELDS = {
    "todo_lists_owner_id_name_key": ("/name", "A list with this name already exists."),
    "users_username_key": ("/username", "This username is taken; choose another."),
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


# SQLSTATE classes that mean the server cannot serve now, whatever the request: connection
# exceptions (08), insufficient resources (53: too many connections, out of memory), operator
# intervention (57: shutting down, restarting after a crash, "in recovery mode").
_UNAVAILABLE_CLASSES = ("08", "53", "57")


# The driver's own errors about the state of its connection. InternalClientError is what
# asyncpg raises when a statement meets a connection whose session the server has just ended
# (its FATAL message read, the end of the socket not yet): "cannot switch to state 12;
# another operation (2) is in progress". The statement was never sent; the connection is
# discarded (data/db.py) and a retry gets another one.
DriverConnectionError = asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError


def database_problem(
    error: sa_exc.DBAPIError | asyncpg.PostgresError | DriverConnectionError,
) -> Problem:
    """The answer to a database error: raised through SQLAlchemy, or by asyncpg itself while
    connecting (e.g. CannotConnectNowError while the server restarts) or running a prepared
    statement on the driver (db.Work: e.g. "connection is closed" after the server ended the
    session)."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    cause = getattr(orig, "__cause__", None) or orig
    sqlstate = getattr(cause, "sqlstate", None) or getattr(orig, "pgcode", None) or ""
    if sqlstate in _SQLSTATE_PROBLEMS:
        status, slug, detail = _SQLSTATE_PROBLEMS[sqlstate]
        errors = None
        constraint = getattr(cause, "constraint_name", None)
        if constraint in _CONSTRAINT_FIELDS:
            pointer, detail = _CONSTRAINT_FIELDS[constraint]
            errors = [{"pointer": pointer, "detail": detail}]
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
        return Problem(status, slug, detail, errors, headers=headers)
    if sqlstate.startswith(_UNAVAILABLE_CLASSES) or _lost_the_server(cause):
        return unavailable("The database is unreachable; retry shortly.")
    log.error("unexpected database error", exc_info=error)
    return Problem(500, "internal-error", "An unexpected error occurred.")


def _lost_the_server(cause: BaseException | None) -> bool:
    """The driver lost its connection (a broken socket, a closed connection). Its complaints
    about a parameter it cannot encode (an InterfaceError that is a ValueError) are bugs."""
    if isinstance(cause, ValueError):
        return False
    return isinstance(
        cause, OSError | TimeoutError | asyncpg.PostgresConnectionError | DriverConnectionError
    )


def http_problem(error: HTTPException) -> Response:
    """An HTTP-level error (no such route, method, body too large) as problem+json."""
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


async def _on_http_error(error: HTTPException) -> Response:
    return http_problem(error)


def _connection_failed(error: OSError) -> Problem:
    # asyncpg raises plain OSError (connection refused) when opening a new connection.
    log.warning("database connection failed: %s", error)
    return unavailable("The database is unreachable; retry shortly.")


def _timed_out(error: TimeoutError) -> Problem:
    log.warning("timed out: %r", error)
    return unavailable("The database did not answer in time; retry shortly.")


def _unexpected(error: Exception) -> Problem:
    log.exception("unhandled error", exc_info=error)
    return Problem(500, "internal-error", "An unexpected error occurred.")


# What each kind of failure answers, most specific first (Quart picks by class hierarchy).
_PROBLEMS: list[tuple[type[BaseException], Callable[[Any], Problem]]] = [
    (Problem, lambda problem: problem),
    (sa_exc.DBAPIError, database_problem),
    (asyncpg.PostgresError, database_problem),
    (asyncpg.InterfaceError, database_problem),
    (asyncpg.exceptions.InternalClientError, database_problem),
    (sa_exc.TimeoutError, lambda _: unavailable("The server is busy; retry shortly.")),
    (OSError, _connection_failed),
    (TimeoutError, _timed_out),
    (Exception, _unexpected),
]


def _answer(to_problem: Callable[[Any], Problem]) -> Callable[[Any], Awaitable[Response]]:
    async def handler(error: Any) -> Response:
        return problem_response(to_problem(error))

    return handler


def init_app(app: Quart) -> None:
    app.register_error_handler(HTTPException, _on_http_error)
    for kind, to_problem in _PROBLEMS:
        app.register_error_handler(kind, _answer(to_problem))


def _slug(code: int) -> str:
    return {
        400: "malformed-request",
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
        415: "unsupported-media-type",
    }.get(code, f"http-{code}")
