"""Servers for tests: `todoapp` as a separate process (as a user or a container runs it),
and apps with settings of their own (a tiny pool, a low in-flight cap, a short deadline)
in-process or on a real socket."""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import psutil
from asgi_lifespan import LifespanManager
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from prometheus_client.parser import text_string_to_metric_families
from quart import Quart

from backend import create_app
from backend.runtime.config import Settings

from .users import AUTH_HEADERS

TODOAPP = [sys.executable, "-m", "backend.runtime.cli"]
# What granian prints once a worker accepts connections: its main process prints
# "Listening at" before its workers have their (SO_REUSEPORT) sockets, so wait for a worker.
READY_LINES = ("Started worker-",)

LISTENING = re.compile(r"Listening at: http://(\[[^\]]+\]|[^\s\":]+):(\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server(subprocess.Popen[str]):
    log: list[str]
    reader: threading.Thread  # reads the output into log; done once the process exited


@contextmanager
def server(args: list[str], env: dict[str, str]) -> Iterator[Server]:
    """Start `todoapp serve ...`; return once a worker accepts connections. Its output is
    read on (into proc.log) by a thread, so a full pipe never blocks the server."""
    proc = Server(
        TODOAPP + args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the workers go with it
    )
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # blocks until the server writes: no polling
            seen.append(line)
            if any(ready in line for ready in READY_LINES):
                break
        else:
            raise AssertionError("server exited before listening:\n" + "".join(seen))
        proc.log = seen
        proc.reader = threading.Thread(target=seen.extend, args=(proc.stdout,), daemon=True)
        proc.reader.start()
        _until_accepting(seen)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def todoapp(database_url: str, **env: str) -> Iterator[str]:
    """`todoapp serve` on database_url with extra settings; yields its base URL. Without
    accounts (AUTH=off) unless `env` says otherwise: its users test the edge, not sign-in."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port)}
    environment.update({"AUTH": "off", **env})
    with server(["serve"], environment):
        yield f"http://127.0.0.1:{port}"


def _until_accepting(log: list[str], limit_s: float = 30) -> None:
    """granian logs "Started worker-N" just before the worker opens its listener: connect
    to the address it announced until one accepts."""
    # The line may be text or a JSON object (LOG_FORMAT=json): take the URL out of either.
    announced = next(m for line in log if (m := LISTENING.search(line)))
    host, port = announced.group(1), announced.group(2)
    address = ("127.0.0.1" if host in ("0.0.0.0", "[::]") else host.strip("[]"), int(port))
    deadline = time.monotonic() + limit_s
    while True:
        try:
            socket.create_connection(address, timeout=1).close()
            return
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # a refused connect returns at once: don't spin the CPU


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[tuple[Quart, httpx.AsyncClient]]:
    """A fresh app (own engine and pool) with its lifespan run, and an in-process client."""
    app = create_app(settings)
    headers = AUTH_HEADERS if settings.accounts else {}  # alice's (clean_db makes her)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://localhost", headers=headers
        ) as c:
            yield app, c


@asynccontextmanager
async def live_app(settings: Settings) -> AsyncIterator[tuple[Quart, str]]:
    """A fresh app on a real socket (Hypercorn in the test loop); yields it and its URL."""
    app = create_app(settings)
    # Listening before Hypercorn starts: early requests wait in the backlog, no polling.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    config = HypercornConfig()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config.bind = [f"fd://{sock.detach()}"]  # Hypercorn owns (and closes) the fd now
    config.accesslog = None
    config.graceful_timeout = 5
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        yield app, base
    finally:
        stop.set()
        await task


def exited(pid: int) -> bool:
    """The process is gone (a zombie waiting for its new parent to reap it counts)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text format -> {(sample name, sorted labels): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def until(
    predicate: Callable[[], bool | Awaitable[bool]], what: str, limit_s: float = 30
) -> None:
    """Yield to the event loop (where the server runs) until predicate() holds: waits for a
    state the test can see (a request parked in the pool), not for a guessed time."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        result = predicate()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0)  # a turn of the loop, no delay
    raise AssertionError(f"never happened: {what}")
