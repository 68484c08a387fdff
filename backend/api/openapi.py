"""The OpenAPI document (/openapi.json): quart-schema's, completed where it cannot say enough.

quart-schema 0.25 builds the paths, the query parameters and the summaries (a route's
docstring: first line, then the description). This provider, its documented extension
point, adds what a client developer needs and a generator can use:

- shared shapes as named components (`$ref`), so generated clients get one `TodoOut` class;
- each route's answers as `@answers` declares them: the success (204 without a body), and
  problems typed `application/problem+json`, each with an example; 413 wherever a body is
  read (the app-wide 1 MiB limit), 304 where `If-None-Match` is honoured;
- the headers, by the rules of the code that sends or reads them:
  `X-Request-ID` on every request and answer (edge/requestid.py); `If-None-Match` on GET and
  `If-Match` on PATCH / DELETE of one item (conditional.py); `ETag` on answers that carry one
  versioned item, on 304 and 412; `Location` on 201; `Link` and `X-Total-Count` on pages (a
  `Page` query, representation.py); `Retry-After` on 503; `Idempotency-Key` and
  `Idempotent-Replayed` on `@idempotent` routes;
- query parameters without `null` (a query string cannot carry one), ids with their range.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, TypeAdapter
from quart_schema.openapi import OpenAPIProvider
from quart_schema.validation import (
    QUART_SCHEMA_QUERYSTRING_ATTRIBUTE,
    QUART_SCHEMA_REQUEST_ATTRIBUTE,
)
from werkzeug.routing import BaseConverter, Rule

from ..domain.schemas import ListOut, Page, Problem, TodoOut
from ..edge import requestid
from .common import ANSWERS, Answers, IdConverter
from .idempotency import IDEMPOTENT, MAX_KEY_LENGTH

SCHEMAS = "#/components/schemas/{model}"
PROBLEM_JSON = "application/problem+json"

TAGS = [
    {"name": "todos", "description": "Todos (the Todo-Backend contract, and more)."},
    {"name": "lists", "description": "Todo lists, with the counts of their todos."},
    {"name": "events", "description": "The live change feed (Server-Sent Events)."},
    {"name": "members", "description": "Sharing a list: its owner, editors and viewers."},
    {"name": "auth", "description": "Sign-up, sign-in and sign-out (AUTH=on)."},
    {"name": "me", "description": "The signed-in account: who, password, sessions, deletion."},
    {"name": "tokens", "description": "Personal access tokens for scripts (bearer tokens)."},
    {"name": "health", "description": "Liveness and readiness, for orchestrators."},
    {"name": "metrics", "description": "Prometheus metrics; keep off the public internet."},
]
# The item a 412's `current` shows, by resource (blueprint).
ITEMS: dict[str, type[BaseModel]] = {"todos": TodoOut, "lists": ListOut}


def _string(**schema: Any) -> dict[str, Any]:
    return {"type": "string", **schema}


REQUEST_HEADERS = {
    "X-Request-ID": (
        "Your id for this request (echoed, and on the server's log lines); else one is made.",
        _string(pattern=f"^{requestid.VALID.pattern}$"),
    ),
    "If-Match": (
        'Write only if the item is still at this ETag (e.g. `"3"`); else 412.',
        _string(),
    ),
    "If-None-Match": ("Answer 304 without a body if the item is still at this ETag.", _string()),
    "Idempotency-Key": (
        "Make a retry safe: the same key and body get the first answer again, creating nothing.",
        _string(minLength=1, maxLength=MAX_KEY_LENGTH),
    ),
    "Last-Event-ID": (
        "Resume the event stream after this event id (EventSource sends it when it reconnects).",
        _string(pattern="^[0-9]+$"),
    ),
}
RESPONSE_HEADERS = {
    "X-Request-ID": ("The request's id: yours if it was valid, else a new one.", _string()),
    "ETag": (
        "The item's version as a strong ETag (a list's also covers its counts, \"3-2-1\"); "
        "send it in If-Match / If-None-Match.",
        _string(),
    ),
    "Location": ("The created item's URL (when one item was created).", _string(format="uri")),
    "Link": ('`<URL>; rel="next"`: the next page, when there is one.', _string()),
    "X-Total-Count": ("All matching items (with `count=true`).", {"type": "integer"}),
    "Retry-After": ("Seconds to wait before trying again.", {"type": "integer"}),
    "WWW-Authenticate": ("`Bearer`: send an access token (or sign in).", _string()),
    "Idempotent-Replayed": (
        "`true`: the stored answer to an earlier request with this Idempotency-Key.",
        _string(enum=["true"]),
    ),
}

SUCCESS = {
    200: "OK",
    201: "Created",
    204: "No Content: done.",
    304: "Not Modified: `If-None-Match` named the current ETag.",
}
# status: (problem type slug, example detail, when it happens)
PROBLEMS = {
    400: ("malformed-request", "The request body is not valid JSON.", "the body is not JSON."),
    401: (
        "unauthorized",
        "Sign in, or send an access token as a bearer token.",
        "no valid credentials (AUTH=on): an access token or the session cookie.",
    ),
    403: (
        "forbidden",
        "This list is shared with you as a viewer: you can read it but not change it.",
        "your role on the list does not allow it, the request came from another site "
        "(`csrf`), sign-up is closed, or the current password did not match.",
    ),
    404: (
        "not-found",
        "There is no todo with id 7.",
        "no item with this id (or it is someone else's: the same answer).",
    ),
    409: (
        "conflict",
        "A resource with these values already exists.",
        "a list with this name exists, or the list is the only one left (`last-list`).",
    ),
    412: (
        "precondition-failed",
        "The resource changed since you read it (If-Match did not match); "
        "the current version is in `current`.",
        "`If-Match` did not match: `current` is the item as it is now, ETag its version.",
    ),
    413: (
        "payload-too-large",
        "The request body is larger than the limit of 1 MiB.",
        "the body is over 1 MiB.",
    ),
    415: (
        "unsupported-media-type",
        "Send the body as JSON with 'Content-Type: application/json'.",
        "the body was not sent as `application/json`.",
    ),
    422: (
        "validation-error",
        "The request body is not valid.",
        "wrong types, unknown fields, out-of-range values, an unknown `list_id`, a bad query "
        "parameter (`errors` says where), or an Idempotency-Key reused with another body.",
    ),
    429: (
        "too-many-attempts",
        "Too many failed attempts; wait a while before trying again.",
        "10 failed sign-ins or sign-ups in 15 minutes for the username or the address.",
    ),
    503: (
        "unavailable",
        "The database is unreachable; retry shortly.",
        "overloaded, or the database is unreachable or slow: retry after `Retry-After`.",
    ),
}


@dataclass(frozen=True)
class Operation:
    """What the provider knows of one route: its rule, method and handler."""

    rule: Rule
    method: str
    func: Any

    @property
    def answers(self) -> Answers | None:
        return getattr(self.func, ANSWERS, None)

    @property
    def resource(self) -> str:
        return self.rule.endpoint.split(".", 1)[0]

    @property
    def on_item(self) -> bool:
        return bool(self.rule.arguments)

    @property
    def request_model(self) -> Any:
        documented = getattr(self.func, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
        return documented[0] if documented else None

    @property
    def paged(self) -> bool:
        query = getattr(self.func, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None)
        return isinstance(query, type) and issubclass(query, Page)


class OpenAPI(OpenAPIProvider):
    def schema(self) -> dict[str, Any]:
        self._shapes = self._component_schemas()
        document = super().schema()
        components = document["components"]
        components["schemas"].update(self._defs)
        components["parameters"] = {
            name: {"name": name, "in": "header", "description": text, "schema": schema}
            for name, (text, schema) in REQUEST_HEADERS.items()
        }
        components["headers"] = {
            name: {"description": text, "schema": schema}
            for name, (text, schema) in RESPONSE_HEADERS.items()
        }
        document["tags"] = TAGS
        return document

    def _component_schemas(self) -> dict[tuple[Any, str], dict[str, Any]]:
        """Every documented shape, in one pass (so names are shared), as `$ref`s."""
        wanted: set[tuple[Any, str]] = {(Problem, "serialization")}
        for rule in self.generate_rules():
            func = self._app.view_functions[rule.endpoint]
            answers = getattr(func, ANSWERS, None)
            if answers is not None and answers.success is not None:
                wanted.add((answers.success, "serialization"))
            request = getattr(func, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
            if request is not None:
                wanted.add((request[0], "validation"))
        inputs = [((shape, mode), mode, TypeAdapter(shape)) for shape, mode in wanted]
        shapes, defs = TypeAdapter.json_schemas(inputs, ref_template=SCHEMAS)  # type: ignore[arg-type]
        self._defs = defs.get("$defs", {})
        return {key: schema for (key, _mode), schema in shapes.items()}

    def build_paths(self, rule: Rule) -> tuple[dict, dict]:
        paths, components = super().build_paths(rule)
        func = self._app.view_functions[rule.endpoint]
        for methods in paths.values():
            for method in methods:
                methods[method] = self._complete(methods[method], Operation(rule, method, func))
        return paths, components

    def operation_id(self, method: str, path: str, func: Any) -> str | None:
        # Route names are unique: `create_todo`, not `post_create_todo`, in generated clients.
        return func.__name__

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, IdConverter):
            parameter["schema"].update(minimum=converter.min, maximum=converter.max)
        return parameter

    def _complete(self, operation: dict[str, Any], op: Operation) -> dict[str, Any]:
        operation = {**operation, "tags": [op.resource]}
        if not operation.get("description"):
            operation.pop("description", None)
        operation["parameters"] = [
            *(_without_null(p) for p in operation["parameters"]),
            *({"$ref": f"#/components/parameters/{name}"} for name in _request_headers(op)),
        ]
        if op.request_model is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": self._media(op.request_model, "validation")},
            }
        operation["responses"] = self._responses(op)
        return operation

    def _media(self, shape: Any, mode: str) -> dict[str, Any]:
        schema = self._shapes[(shape, mode)]
        media: dict[str, Any] = {"schema": schema}
        example = self._example(schema)
        if example is not None:
            media["example"] = example
        return media

    def _example(self, schema: dict[str, Any]) -> Any:
        if "$ref" in schema:
            return self._named_example(schema["$ref"].rsplit("/", 1)[1])
        if schema.get("type") == "array":
            item = self._example(schema["items"])
            return None if item is None else [item]
        return None

    def _named_example(self, name: str) -> Any:
        found = self._defs.get(name, {}).get("examples")
        return found[0] if found else None

    def _responses(self, op: Operation) -> dict[str, Any]:
        answers = op.answers
        if answers is None:
            raise TypeError(f"{op.rule.rule}: document its answers with @answers")
        responses = {str(answers.status): self._success(answers, op)}
        if op.method == "get" and op.on_item:
            responses["304"] = {
                "description": SUCCESS[304],
                "headers": _headers("ETag", "X-Request-ID"),
            }
        problems = set(answers.problems) | ({413} if op.request_model is not None else set())
        if self._app.extensions["settings"].accounts and _needs_credentials(op):
            problems.add(401)
        for status in sorted(problems):
            responses[str(status)] = self._problem(status, op)
        return responses

    def _success(self, answers: Answers, op: Operation) -> dict[str, Any]:
        names = ["X-Request-ID"]
        if answers.status == 201:
            names += ["Location", "ETag"]
        elif _versioned(answers.success):
            names.append("ETag")
        if op.paged:
            names += ["Link", "X-Total-Count"]
        if getattr(op.func, IDEMPOTENT, False):
            names.append("Idempotent-Replayed")
        response: dict[str, Any] = {
            "description": SUCCESS.get(answers.status, HTTPStatus(answers.status).phrase),
            "headers": _headers(*names),
        }
        if answers.success is not None:
            media = self._media(answers.success, "serialization")
            response["content"] = {answers.media_type: media}
        return response

    def _problem(self, status: int, op: Operation) -> dict[str, Any]:
        slug, detail, when = PROBLEMS[status]
        example: dict[str, Any] = {
            "type": f"urn:todoapp:problem:{slug}",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
        }
        names = ["X-Request-ID"]
        if status == 412:
            names.append("ETag")
            item = ITEMS.get(op.resource)
            if item is not None:
                example["current"] = self._named_example(item.__name__)
        if status == 422:
            example = self._example(self._shapes[(Problem, "serialization")])
        if status in (429, 503):
            names.append("Retry-After")
        if status == 401:
            names.append("WWW-Authenticate")
        return {
            "description": f"{HTTPStatus(status).phrase}: {when}",
            "headers": _headers(*names),
            "content": {
                PROBLEM_JSON: {
                    "schema": self._shapes[(Problem, "serialization")],
                    "example": example,
                }
            },
        }


def _needs_credentials(op: Operation) -> bool:
    """Under /api, except sign-up, sign-in and sign-out (edge/auth.py)."""
    return op.rule.rule.startswith("/api/") and not op.rule.rule.startswith("/api/auth/")


def _request_headers(op: Operation) -> list[str]:
    names = ["X-Request-ID"]
    if op.on_item and op.method == "get":
        names.append("If-None-Match")
    if op.on_item and op.method in ("patch", "delete"):
        names.append("If-Match")
    if getattr(op.func, IDEMPOTENT, False):
        names.append("Idempotency-Key")
    if op.resource == "events":
        names.append("Last-Event-ID")
    return names


def _headers(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _versioned(shape: Any) -> bool:
    """One item with a version: it is sent with its ETag."""
    return (
        isinstance(shape, type) and issubclass(shape, BaseModel) and "version" in shape.model_fields
    )


def _without_null(parameter: dict[str, Any]) -> dict[str, Any]:
    """A query string has no null: `int | None = None` is an optional integer."""
    schema = dict(parameter.get("schema", {}))
    variants = schema.pop("anyOf", None)
    if variants is not None:
        kept = [v for v in variants if v != {"type": "null"}]
        schema = {**schema, **kept[0]} if len(kept) == 1 else {**schema, "anyOf": kept}
    if schema.get("default", 0) is None:
        del schema["default"]
    return {**parameter, "schema": schema}
