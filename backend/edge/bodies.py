"""Request bodies are read in full before the app sees the request, so a slow upload costs its
sender and nobody else.

A client that announces a body and trickles it in holds a connection, not a request slot: it
is not in flight (MAX_IN_FLIGHT, overload.py) until its body has arrived. While it sends, it
is bounded three ways: BODY_TIMEOUT for the whole body (408), the body size limit (413,
checked before reading when Content-Length says so), and MAX_UPLOADS_PER_CLIENT bodies
arriving in pieces at once per client address (429). A body that comes with its request
(nearly all) is never counted there, however many requests one address sends at once.

A body the server cannot read (the connection dropped, or chunked framing that does not
parse, e.g. Content-Length and Transfer-Encoding together with a body in Content-Length
framing) is a 400, not the server's plain-text 500.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from quart import Quart

from ..runtime.config import Settings
from .asgitypes import ASGIApp, Message, Receive, Scope, Send
from .problems import RETRY_AFTER_SECONDS, Problem, send_problem

TIMED_OUT = Problem(
    408, "request-timeout", "The request body did not arrive in time; send it faster."
)
TOO_LARGE = Problem(413, "payload-too-large", "The request body is larger than the limit of 1 MiB.")
UNREADABLE = Problem(
    400,
    "malformed-request",
    "The request body could not be read (broken chunked framing, or the connection dropped).",
)
TOO_MANY = Problem(
    429,
    "too-many-uploads",
    "Too many request bodies from this address are still arriving; retry shortly.",
    headers={"Retry-After": RETRY_AFTER_SECONDS},
)


UNSUPPORTED_CODING = Problem(
    400, "malformed-request", "The only transfer coding accepted is Transfer-Encoding: chunked."
)
CHUNKED = -1


def announced_length(scope: Scope) -> int | None:
    """The body the request says it has: its Content-Length, CHUNKED (length unknown), or
    None for no body."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return CHUNKED  # it wins over a Content-Length (RFC 9112 6.1)
        if name == b"content-length":
            # granian lets only digits through; be as strict behind any other server.
            return (int(value) or None) if value.isdigit() else CHUNKED
    return None


def _only_chunked(scope: Scope) -> bool:
    # The server decodes chunked framing and passes any other coding (gzip, ...) through
    # undecoded: refuse those rather than hand the app bytes it would misread.
    codings = [v for n, v in scope["headers"] if n == b"transfer-encoding"]
    return all(v.strip().lower() == b"chunked" for v in codings)


class BodyReader:
    """ASGI middleware: reads the whole body within `timeout` seconds, then calls the app
    with a receive() that hands it over at once."""

    def __init__(self, app: ASGIApp, *, timeout: float, per_client: int, max_bytes: int) -> None:
        self.app = app
        self.timeout = timeout or None
        self.per_client = per_client
        self.max_bytes = max_bytes
        self.arriving: Counter[str] = Counter()  # bodies arriving in pieces, per address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = announced_length(scope) if scope["type"] == "http" else None
        if length is None:
            await self.app(scope, receive, send)
            return
        if length > self.max_bytes:
            await send_problem(send, TOO_LARGE)
            return
        if length == CHUNKED and not _only_chunked(scope):
            await send_problem(send, UNSUPPORTED_CODING)
            return
        client = (scope.get("client") or ("?",))[0]
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._read(receive, client, length)
        except TimeoutError:
            body = TIMED_OUT
        if isinstance(body, Problem):
            await send_problem(send, body)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive, client: str, length: int) -> bytes | Problem:
        """The body, or the problem to answer instead. Only a body still short of its
        announced length after a piece (or a chunked one) counts as an upload in progress of
        its address: one that came with its request (nearly all) never does."""
        chunks: list[bytes] = []
        size, counted = 0, False
        try:
            while True:
                message = await receive()
                chunk = _chunk(message, size, self.max_bytes)
                if isinstance(chunk, Problem):
                    return chunk
                chunks.append(chunk)
                size += len(chunk)
                if _complete(message):
                    return b"".join(chunks)
                if counted or 0 < length <= size:  # all here: only the end marker is to come
                    continue
                if self.per_client and self.arriving[client] >= self.per_client:
                    return TOO_MANY
                self.arriving[client] += 1
                counted = True
        finally:
            if counted:
                self.arriving[client] -= 1
                if not self.arriving[client]:
                    del self.arriving[client]  # the counter does not grow with every address


def _chunk(message: Message, size_so_far: int, max_bytes: int) -> bytes | Problem:
    """The message's piece of the body, or why there is none to take."""
    if message["type"] != "http.request":
        # granian says "disconnect" both when the client left and when the body's framing
        # is broken: answer; a client that left never reads it.
        return UNREADABLE
    chunk: bytes = message.get("body", b"")
    return TOO_LARGE if size_so_far + len(chunk) > max_bytes else chunk


def _complete(message: Message) -> bool:
    return message["type"] == "http.request" and not message.get("more_body", False)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message, then the server's own receive (for the disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def init_app(app: Quart, settings: Settings) -> None:
    """Wrap the app (after overload.init_app: the in-flight cap then counts only requests
    whose body has arrived)."""
    max_bytes = app.config["MAX_CONTENT_LENGTH"]
    app.asgi_app = BodyReader(  # type: ignore[method-assign]
        app.asgi_app,
        timeout=settings.body_timeout,
        per_client=settings.max_uploads_per_client,
        max_bytes=max_bytes,
    )
    # Quart's own cut-off would never fire now (the body is complete before it reads it),
    # and with one it reads the body through asyncio.wait_for: a task of its own per read.
    app.config["BODY_TIMEOUT"] = None
