"""Slow and malformed uploads against the production server (`todoapp serve`, granian).

A slow body costs its sender, never everyone else: clients that announce a body and trickle
it are not requests in flight until the body has arrived (so they cannot fill MAX_IN_FLIGHT),
are cut at BODY_TIMEOUT with 408, and one address can hold only MAX_UPLOADS_PER_CLIENT of
them at once (429 beyond). A body that cannot be read is a 400 problem, never a 5xx."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest

from .servers import samples, todoapp, until

ATTACKERS = 300
ANNOUNCED = 1000  # bytes each slow client says it will send


@pytest.fixture
def inbox_owner() -> int:
    return 0  # AUTH=off servers: list 1 is the implicit user's Inbox


class RawResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body
        self.closed: bool | None = None  # did the server close the connection after it

    def problem(self) -> dict:
        assert self.headers["content-type"] == "application/problem+json", self.headers
        return orjson.loads(self.body)


async def read_response(reader: asyncio.StreamReader) -> RawResponse:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in filter(None, lines):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawResponse(int(status_line.split()[1]), headers, body)


class SlowUpload:
    """A client that announces a JSON body of ANNOUNCED bytes and sends it one byte at a
    time, from its own source address (every 127/8 address is this machine)."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter
        self.trickle: asyncio.Task[None] | None = None

    async def start(self) -> SlowUpload:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(self.source, 0)
        )
        self.writer.write(
            b"POST /api/todos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n{" % ANNOUNCED
        )
        await self.writer.drain()
        self.trickle = asyncio.create_task(self._trickle())
        return self

    async def _trickle(self) -> None:
        # The attack's pace (one byte a second), not a wait for the server.
        with contextlib.suppress(OSError):
            for _ in range(ANNOUNCED - 2):
                await asyncio.sleep(1)
                self.writer.write(b" ")
                await self.writer.drain()

    async def response(self) -> RawResponse:
        return await read_response(self.reader)

    async def close(self) -> None:
        if self.trickle is not None:
            self.trickle.cancel()
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def slow_uploads(port: int, sources: list[str]) -> AsyncIterator[list[SlowUpload]]:
    uploads = await asyncio.gather(*(SlowUpload(port, s).start() for s in sources))
    try:
        yield list(uploads)
    finally:
        await asyncio.gather(*(u.close() for u in uploads))


async def requests_seen(http: httpx.AsyncClient) -> float:
    """Requests the server holds now (minus this scrape) plus the ones it refused with 503."""
    metrics = samples((await http.get("/metrics")).text)
    refused = sum(
        value
        for (name, labels), value in metrics.items()
        if name == "todoapp_http_requests_total" and ("status", "503") in labels
    )
    return metrics[("todoapp_http_requests_in_flight", ())] - 1 + refused


def loopback(n: int) -> list[str]:
    """n distinct source addresses: a distributed attacker, one connection each."""
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(n)]


async def test_300_slow_uploads_do_not_lock_out_other_clients(
    database_url: str, clean_db: object
) -> None:
    # A long BODY_TIMEOUT: the slow clients hold on for the whole test, so what keeps the
    # server usable is that they do not count as requests in flight.
    with todoapp(database_url, MAX_IN_FLIGHT="256", BODY_TIMEOUT="120") as url:
        port = int(url.rsplit(":", 1)[1])
        async with (
            httpx.AsyncClient(base_url=url, timeout=30) as http,
            slow_uploads(port, loopback(ATTACKERS)),
        ):

            async def all_arrived() -> bool:
                return await requests_seen(http) >= ATTACKERS

            await until(all_arrived, f"the server sees all {ATTACKERS} slow uploads")
            for n in range(5):
                listed = await http.get("/api/todos")
                assert listed.status_code == 200, listed.text
                created = await http.post("/api/todos", json={"title": f"still here {n}"})
                assert created.status_code == 201, created.text
            assert (await http.get(created.headers["location"])).status_code == 200


async def test_slow_uploads_are_capped_per_address_and_cut_at_the_body_timeout(
    database_url: str, clean_db: object
) -> None:
    with todoapp(database_url, MAX_UPLOADS_PER_CLIENT="3", BODY_TIMEOUT="5") as url:
        port = int(url.rsplit(":", 1)[1])
        async with (
            httpx.AsyncClient(base_url=url, timeout=30) as http,
            slow_uploads(port, ["127.0.0.5"] * 3) as holders,
        ):

            async def held() -> bool:
                return await requests_seen(http) >= 3

            await until(held, "the server holds three slow uploads from 127.0.0.5")
            async with slow_uploads(port, ["127.0.0.5"]) as (fourth,):
                refused = await fourth.response()
            assert refused.status == 429
            assert refused.headers["retry-after"]
            assert refused.problem()["status"] == 429
            # Another address is not affected.
            created = await http.post("/api/todos", json={"title": "other address"})
            assert created.status_code == 201
            # Nor are ordinary requests from the same address, however many at once: a body
            # that comes with its request is not an upload in progress.
            same = httpx.AsyncHTTPTransport(local_address="127.0.0.5")
            async with httpx.AsyncClient(base_url=url, transport=same, timeout=30) as neighbour:
                one = {"title": "same address"}
                burst = await asyncio.gather(
                    *(neighbour.post("/api/todos", json=one) for _ in range(20))
                )
            assert [r.status_code for r in burst] == [201] * 20

            # The three holders are cut off at BODY_TIMEOUT, with a problem, not a hang.
            for holder in holders:
                cut = await holder.response()
                assert cut.status == 408
                assert cut.problem()["type"] == "urn:todoapp:problem:request-timeout"
            titles = [t["title"] for t in (await http.get("/api/todos")).json()]
    assert sorted(set(titles)) == ["other address", "same address"]  # nothing from a holder
    assert len(titles) == 21


async def exchange(port: int, request: bytes, then_eof: bool = False) -> RawResponse:
    """One raw request on a fresh connection; with then_eof, also whether the server then
    closed the connection (rather than reading anything sent after the request)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        response = await read_response(reader)
        if then_eof:
            response.closed = await reader.read(1) == b""
        return response
    finally:
        writer.close()


@pytest.fixture(scope="module")
def framing_port(database_url: str) -> Iterator[int]:
    with todoapp(database_url) as url:
        yield int(url.rsplit(":", 1)[1])


POST = b"POST /api/todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
JSON = b'{"title":"ab"}'  # 14 bytes


@pytest.mark.parametrize(
    "request_bytes",
    [
        # Both framings, the body in Content-Length framing (a smuggling probe): the server
        # reads it as chunked and fails; that used to be a plain-text 500.
        POST + b"Content-Length: 14\r\nTransfer-Encoding: chunked\r\n\r\n" + JSON,
        POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + JSON + b"\r\n0\r\n\r\n",
        POST + b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n" + JSON + b"\r\n",
        POST + b"Transfer-Encoding: gzip, chunked\r\n\r\ne\r\n" + JSON + b"\r\n0\r\n\r\n",
    ],
    ids=["content-length-and-chunked", "bad-chunk-size", "huge-chunk-size", "gzip-coding"],
)
async def test_unreadable_bodies_are_400_problems(framing_port: int, request_bytes: bytes) -> None:
    response = await exchange(framing_port, request_bytes)
    assert response.status == 400
    assert response.problem()["type"] == "urn:todoapp:problem:malformed-request"


async def test_both_framings_with_a_chunked_body_are_read_as_chunked_and_close(
    framing_port: int,
) -> None:
    """RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and the server must close
    the connection after answering (so nothing smuggled behind it is read)."""
    request = POST + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\ne\r\n"
    smuggled = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    response = await exchange(framing_port, request + JSON + b"\r\n0\r\n\r\n" + smuggled, True)
    assert response.status == 201
    assert response.closed


@pytest.mark.parametrize(
    "request_bytes",
    [
        POST + b"Idempotency-Key: a\x7fb\r\nContent-Length: 14\r\n\r\n" + JSON,
        POST + b"Content-Length: 14\r\nContent-Length: 15\r\n\r\n" + JSON,
        POST + b"Content-Length: 99999999999999999999999\r\n\r\n" + JSON,
        POST + b"Transfer-Encoding: identity\r\nContent-Length: 14\r\n\r\n" + JSON,
    ],
    ids=["del-in-a-header", "two-content-lengths", "huge-content-length", "identity-coding"],
)
async def test_requests_the_http_server_refuses_get_its_400(
    framing_port: int, request_bytes: bytes
) -> None:
    """granian rejects these while parsing, before the app: a 400 with an empty body that no
    setting changes (see the README's errors section). Never a 5xx."""
    response = await exchange(framing_port, request_bytes)
    assert response.status == 400
    assert response.body == b""
