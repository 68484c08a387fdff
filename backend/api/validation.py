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

from ..problems import Problem, field_errors

Handler = Callable[..., Awaitable[Any]]


def invalid_body(error: ValidationError) -> Problem:
    return Problem(422, "validation-error", "The request body is not valid.", field_errors(error))


def body(model: Any) -> Callable[[Handler], Handler]:
    """Validate the JSON body against `model`; the route gets it as `data`."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)

    def decorator(func: Handler) -> Handler:
        document_request(model)(func)

        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            payload = await json_payload()
            try:
                data = adapter.validate_python(payload)
            except ValidationError as error:
                raise invalid_body(error) from None
            return await func(*args, data=data, **kwargs)

        return wrapper

    return decorator


def body_one_or_many(one: Any, many: Any, document: Any) -> Callable[[Handler], Handler]:
    """Like body(), for routes that take one object or a JSON array of them. Validating each
    shape on its own gives errors that point into the body as sent."""
    one_adapter: TypeAdapter[Any] = TypeAdapter(one)
    many_adapter: TypeAdapter[Any] = TypeAdapter(many)

    def decorator(func: Handler) -> Handler:
        document_request(document)(func)

        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            payload = await json_payload()
            adapter = many_adapter if isinstance(payload, list) else one_adapter
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
