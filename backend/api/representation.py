"""How rows become responses: one helper for every resource.

The response model in domain/schemas.py is the one definition of a resource's shape: it
documents the API (OpenAPI) and, through this helper, builds the body. A field is the row's
column of the same name unless the model says otherwise with ``Source``; ``url`` is the
resource's absolute URL. The bodies are plain dicts serialised by orjson (no pydantic model
per row: that would cost more than the database work of a small request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from operator import itemgetter
from typing import Any

from pydantic import BaseModel
from quart import Response

from ..data import Row, db
from ..data.db import Work
from ..domain.schemas import Source
from ..edge.jsonio import json_response
from ..edge.problems import Problem
from . import pagination
from .common import answers, host_url, not_found
from .conditional import not_modified, precondition_failed


def _columns(model: type[BaseModel]) -> list[tuple[str, str]]:
    pairs = []
    for name, info in model.model_fields.items():
        if name == "url":
            continue
        source = next((m for m in info.metadata if isinstance(m, Source)), None)
        pairs.append((name, source.column if source else name))
    return pairs


class Representation:
    """Bodies, single-item responses, pages and 412s of one resource."""

    def __init__(
        self, kind: str, model: type[BaseModel], path: str, etag: Callable[[Row], str]
    ) -> None:
        self.kind = kind  # "todo": how errors name it
        self.model = model
        self.path = path  # under the server's root, e.g. "api/todos"
        self.etag = etag
        pairs = _columns(model)
        self._names = [name for name, _ in pairs]
        self._values = itemgetter(*[column for _, column in pairs])  # one C call per row
        self._has_url = "url" in model.model_fields

    def base_url(self) -> str:
        return host_url() + self.path

    def body(self, row: Row, base: str | None = None) -> dict[str, Any]:
        body = dict(zip(self._names, self._values(row), strict=True))
        if self._has_url:
            body["url"] = f"{base or self.base_url()}/{row['id']}"
        return body

    def one(self, row: Row, status: int = 200) -> Response:
        body = self.body(row)
        headers = {"ETag": self.etag(row)}
        if status == 201:
            headers["Location"] = body["url"]
        return json_response(body, status, headers)

    async def read(
        self, load: Callable[[Work, int], Awaitable[Row | None]], item_id: int
    ) -> Response:
        """GET of one item: 404 if absent, 304 if If-None-Match names its ETag, else it."""
        async with db.statement() as work:
            row = await load(work, item_id)
        if row is None:
            raise self.missing(item_id)
        return not_modified(self.etag(row)) or self.one(row)

    def reader(
        self, name: str, load: Callable[[Work, int], Awaitable[Row | None]], doc: str
    ) -> Callable[..., Awaitable[Response]]:
        """The view of a GET-one route (named `name`, documented by `doc`); the route's
        only path parameter is the item's id."""

        async def view(**path: int) -> Response:
            (item_id,) = path.values()
            return await self.read(load, item_id)

        view.__name__ = view.__qualname__ = name
        view.__doc__ = doc
        return answers(self.model, 404, 503)(view)

    def missing(self, item_id: int) -> Problem:
        return not_found(self.kind, item_id)

    def many(self, rows: Sequence[Row], status: int = 200) -> Response:
        base = self.base_url()
        return json_response([self.body(row, base) for row in rows], status)

    def page(
        self,
        rows: Sequence[Row],
        limit: int,
        cursor: Callable[[Row], str],
        total: int | None = None,
    ) -> Response:
        """A page of `limit` rows from `rows` (fetched with one more, which tells whether
        there is a next page: then a Link to it, with the cursor of the page's last row)."""
        response = self.many(rows[:limit])
        if len(rows) > limit:
            pagination.link_next(response, cursor(rows[limit - 1]))
        if total is not None:
            response.headers["X-Total-Count"] = str(total)
        return response

    def conflict(self, row: Row) -> Problem:
        """412: If-Match named another version; the problem carries the current one."""
        return precondition_failed(self.body(row), self.etag(row))
