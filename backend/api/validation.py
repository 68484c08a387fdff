"""Request validation with pydantic, documented for OpenAPI by quart-schema.

quart-schema's own validate_request builds a new pydantic TypeAdapter on every request; these
decorators build it once per route, report errors as problem+json with JSON pointers, and
attach the same model to the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from quart import g, request
from quart_schema import document_querystring, document_request

from ..edge.problems import Problem, field_errors

Handler = Callable[..., Awaitable[Any]]


def invalid_body(error: ValidationError) -> Problem:
    return Problem(422, "validation-error", "The request body is not valid.", field_errors(error))


def body(model: Any, *, many: Any = None, document: Any = None) -> Callable[[Handler], Handler]:
    """Validate the JSON body against `model`, or a JSON array against `many` when given (each
    shape on its own, so errors point into the body as sent); the route gets it as `data`."""
    one_adapter: TypeAdapter[Any] = TypeAdapter(model)
    many_adapter: TypeAdapter[Any] | None = TypeAdapter(many) if many is not None else None

    def decorator(func: Handler) -> Handler:
        document_request(document or model)(func)

        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            payload = await json_payload()
            adapter = one_adapter
            if many_adapter is not None and isinstance(payload, list):
                adapter = many_adapter
            try:
                data = adapter.validate_python(payload)
            except ValidationError as error:
                raise invalid_body(error) from None
            return await func(*args, data=data, **kwargs)

        return wrapper

    return decorator


async def json_payload() -> Any:
    """The request body parsed as JSON (once per request): 415 if it is not sent as JSON,
    400 if it does not parse (invalid UTF-8 included)."""
    if "json_payload" in g:
        return g.json_payload
    if not request.is_json:
        raise Problem(
            415,
            "unsupported-media-type",
            "Send the body as JSON with 'Content-Type: application/json'.",
        )
    try:
        g.json_payload = orjson.loads(await request.get_data(cache=False))
    except orjson.JSONDecodeError:
        raise Problem(400, "malformed-request", "The request body is not valid JSON.") from None
    return g.json_payload


def query(model: Any) -> Callable[[Handler], Handler]:
    """Validate the query string against `model`; the route gets it as `query`."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)

    def decorator(func: Handler) -> Handler:
        document_querystring(model)(func)

        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            args_ = {key: request.args.get(key) for key in request.args}
            try:
                parsed = adapter.validate_python(args_)
            except ValidationError as error:
                errors = [{**e, "parameter": e["pointer"].lstrip("/")} for e in field_errors(error)]
                raise Problem(
                    422, "validation-error", "The query parameters are not valid.", errors
                ) from None
            return await func(*args, query=parsed, **kwargs)

        return wrapper

    return decorator
