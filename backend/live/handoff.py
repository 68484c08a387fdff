"""ASGI middleware, the outermost: an event stream's body runs here, after its request.

GET /api/events goes through the app like any request: validation, problems, request id,
CORS, metrics. Its route answers the head of the response and leaves the stream in the ASGI
scope (STREAM); the request then ends, and with it the web framework's tasks and objects
for it. Here, on the server's connection, the stream writes its body for as long as it
lasts. At 1,000 streams that halves the memory per stream and most of the CPU per event
delivered (docs/benchmarks.md), and a stream holds no in-flight slot (MAX_IN_FLIGHT) and
meets no REQUEST_TIMEOUT.

The server's `receive` has one reader: the stream, which learns from it that its client has
left. The app gets an empty request body of its own instead. Why: under granian, a `receive`
of the web framework's that its request's end cancelled can still be running inside the
server; a second one started meanwhile finds the body gone and reports a disconnect, for good
("http.disconnect" from then on). Now and then a live stream ended at once for a connected
client (a GET /api/events carries no body: nothing of the request is lost).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Protocol

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STREAM = "todoapp.live.stream"  # where the route leaves its stream in the ASGI scope
PATH = "/api/events"
END = {"type": "http.response.body", "body": b"", "more_body": False}
NO_BODY = {"type": "http.request", "body": b"", "more_body": False}


class Stream(Protocol):
    async def run(self, send: Send, receive: Receive) -> None: ...

    def release(self) -> None: ...


class Handoff:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        status = 0

        async def head_only(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif _last(message) and status == 200 and STREAM in scope:
                return  # the body follows, from the stream
            await send(message)

        try:
            await self.app(scope, _request_without_body(), head_only)
        except BaseException:
            _release(scope.pop(STREAM, None))
            raise
        stream: Stream | None = scope.pop(STREAM, None)
        if stream is None:
            return
        if status != 200:  # the app failed after its route had begun a stream
            stream.release()
            await send(END)
            return
        try:
            await stream.run(send, receive)
        finally:
            with suppress(Exception):  # the client may be gone
                await send(END)


def _request_without_body() -> Receive:
    """The app's `receive` for an event stream: an empty body, then nothing until the
    request ends (and its reader is cancelled); the server's own is left to the stream."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return NO_BODY
        await asyncio.get_running_loop().create_future()  # (cancelled at the request's end)
        raise AssertionError("unreachable")

    return receive


def _release(stream: Stream | None) -> None:
    if stream is not None:
        stream.release()


def _last(message: Message) -> bool:
    return message["type"] == "http.response.body" and not message.get("more_body", False)
