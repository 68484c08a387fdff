"""Idempotency-Key for POST (Stripe-style): a retry gets the first answer, nothing new.

The key is claimed with an INSERT in the request's own transaction, and the response is stored
in that same transaction, so a crash cannot keep one without the other. A concurrent retry's
INSERT waits on the first one's uncommitted row, then finds it and replays it.
"""

from __future__ import annotations

import hashlib
import random
from functools import wraps
from typing import Any

import orjson
from quart import Response, current_app, request

from ..data import db
from ..data import idempotency as keys
from ..edge.problems import Problem
from .validation import Handler, json_payload

MAX_KEY_LENGTH = 255
# Marks an @idempotent route (for the OpenAPI document: the header and the replay flag).
IDEMPOTENT = "todoapp_idempotent"
# Expired keys (older than 24 h) are purged by about one keyed POST in this many.
PURGE_ONE_IN = 100


def idempotent(func: Handler) -> Handler:
    @wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return await func(*args, **kwargs)
        _check(key)
        route = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
        payload = await json_payload()
        fingerprint = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
        async with db.transaction() as work:
            stored = await keys.claim(work, route, key, fingerprint)
            if random.randrange(PURGE_ONE_IN) == 0:
                await keys.purge_expired(work)
            if stored is not None:
                return replay(stored, fingerprint)
            response: Response = await current_app.make_response(await func(*args, **kwargs))
            await keys.save(
                work,
                route,
                key,
                status=response.status_code,
                body=await response.get_data(as_text=True),
                location=response.headers.get("Location"),
            )
        return response

    setattr(wrapper, IDEMPOTENT, True)
    return wrapper


def _check(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise Problem(
            422,
            "validation-error",
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            [{"header": "Idempotency-Key", "detail": "invalid"}],
        )


def replay(stored: Any, fingerprint: str) -> Response:
    """The first answer again, if this retry sent the same body."""
    if stored["fingerprint"] != fingerprint:
        raise Problem(
            422,
            "idempotency-key-reused",
            "This Idempotency-Key was already used with a different request body.",
        )
    headers = {"Idempotent-Replayed": "true"}
    if stored["location"]:
        headers["Location"] = stored["location"]
    return current_app.response_class(
        stored["body"], status=stored["status"], headers=headers, content_type="application/json"
    )
