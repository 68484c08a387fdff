"""A small Server-Sent Events reader for tests, over a real socket (httpx's ASGITransport
hangs on an endless stream: encode/httpx#2186).

Every read has a deadline: a missing event fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

LIMIT_S = 20.0  # generous for a loaded machine; only reached when something is wrong


@dataclass
class Message:
    kind: str  # the SSE `event:` field; "comment" for a ": ..." line
    id: int | None = None
    data: Any = None

    @property
    def todos(self) -> list[dict[str, Any]]:
        return self.data["todos"]


class Stream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, limit_s: float = LIMIT_S) -> Message:
        """The next event or comment (a `retry:`-only block is not a message)."""
        async with asyncio.timeout(limit_s):
            fields: dict[str, str] = {}
            async for line in self._lines:
                if line.startswith(":"):
                    return Message("comment", data=line[1:].strip())
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                    continue
                if "data" in fields:
                    event_id = int(fields["id"]) if "id" in fields else None
                    kind = fields.get("event", "message")
                    return Message(kind, event_id, json.loads(fields["data"]))
                fields = {}
            raise EOFError("the stream ended")

    async def event(self, limit_s: float = LIMIT_S) -> Message:
        """The next event, skipping comments (keep-alives): one deadline for all of it."""
        async with asyncio.timeout(limit_s):
            while True:
                message = await self.next(limit_s)
                if message.kind != "comment":
                    return message

    async def ready(self) -> Message:
        """Events up to and including `ready` (the history of a resume comes before it)."""
        message = await self.event()
        assert message.kind == "ready", message
        return message

    async def events(self, count: int) -> list[Message]:
        return [await self.event() for _ in range(count)]

    async def end(self, cleanly: bool = False) -> list[Message]:
        """Everything until the server ends the stream. `cleanly`: the server must end its
        response (a cut connection, as when a killed worker drops it, fails)."""
        seen = []
        ends = EOFError if cleanly else (EOFError, httpx.RemoteProtocolError)
        try:
            while True:
                seen.append(await self.next())
        except ends:
            return seen


@asynccontextmanager
async def stream(
    client: httpx.AsyncClient, params: dict[str, Any] | None = None, **headers: str
) -> AsyncIterator[Stream]:
    """GET /api/events; headers by keyword (last_event_id= becomes Last-Event-ID)."""
    sent = {name.replace("_", "-").title(): value for name, value in headers.items()}
    async with client.stream("GET", "/api/events", params=params, headers=sent) as response:
        assert response.status_code == 200, await response.aread()
        yield Stream(response)
