"""JSON through orjson: several times faster than the standard library for our responses."""

from __future__ import annotations

from typing import Any

import orjson
from quart import Response, current_app
from quart.json.provider import JSONProvider


class OrjsonProvider(JSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def _default(obj: Any) -> Any:
    # pydantic models (e.g. OpenAPI documents from quart-schema) serialise themselves.
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # orjson's bytes go straight into the response (no str round trip).
    return current_app.response_class(
        orjson.dumps(body),
        status=status,
        headers=headers,
        content_type="application/json",
    )
