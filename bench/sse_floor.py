"""What granian itself costs to push a chunk to an open response: the floor under the live
feed's fan-out, with none of todoapp's code.

    .venv/bin/python bench/sse_floor.py [--streams 1000] [--pace 0.1] [--chunk 11000]
                                        [--seconds 10] [--direct]

Serves a bare ASGI app with granian as `todoapp serve` runs it (1 worker, 1 Rust runtime
thread, uvloop, HTTP/1.1): every stream is an open chunked response, and every --pace
seconds each of them is sent one --chunk-byte chunk, in slices of 50 with the event loop's
turn in between (as backend/live/feed.py wakes its streams). A child process (uvloop, raw
sockets) opens --streams streams and reads them. Prints the worker's CPU over --seconds, by
thread (granian's Python thread, its tokio runtime thread), per send, and the stream
clients' CPU. --direct calls each stream's `send` from the fan-out loop itself instead of
waking a task per stream (what a wake-up's task costs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from soak import free_port  # noqa: E402

SLICE = 50

# --- the app (runs in granian's worker; configured through the environment) -------------

_streams: list[Any] = []
_ticker: asyncio.Task[None] | None = None


def _message() -> dict[str, Any]:
    size = int(os.environ["FLOOR_CHUNK"])
    return {"type": "http.response.body", "body": b"x" * size, "more_body": True}


class _Woken:
    """A stream whose task waits on a bare future and sends when woken (feed.Subscription)."""

    def __init__(self) -> None:
        self.waiter: asyncio.Future[None] | None = None
        self.due = False

    def wake(self) -> None:
        self.due = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def run(self, send: Any, message: dict[str, Any]) -> None:
        while True:
            if not self.due:
                self.waiter = asyncio.get_running_loop().create_future()
                await self.waiter
            self.due = False
            await send(message)


class _Direct:
    """A stream sent to from the fan-out loop itself (granian's send returns an awaitable
    that is already done)."""

    def __init__(self, send: Any, message: dict[str, Any]) -> None:
        self.send, self.message = send, message

    def wake(self) -> None:
        self.send(self.message)


async def _tick(pace: float) -> None:
    while True:
        await asyncio.sleep(pace)
        streams = list(_streams)
        for start in range(0, len(streams), SLICE):
            if start:
                await asyncio.sleep(0)
            for stream in streams[start : start + SLICE]:
                stream.wake()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _ticker
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if _ticker is None:
        _ticker = asyncio.ensure_future(_tick(float(os.environ["FLOOR_PACE"])))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"open\n", "more_body": True})
    if os.environ.get("FLOOR_DIRECT"):
        _streams.append(_Direct(send, _message()))
        await asyncio.get_running_loop().create_future()  # until the server ends
    stream = _Woken()
    _streams.append(stream)
    await stream.run(send, _message())


# --- the stream clients (a child process) --------------------------------------------------


class _Reader(asyncio.Protocol):
    def __init__(self, opened: asyncio.Future[None]) -> None:
        self.opened = opened

    def connection_made(self, transport: Any) -> None:
        transport.write(b"GET / HTTP/1.1\r\nHost: floor\r\n\r\n")

    def data_received(self, data: bytes) -> None:
        if not self.opened.done() and data.startswith(b"HTTP/1.1 200"):
            self.opened.set_result(None)


async def _read(port: int, count: int) -> None:
    loop = asyncio.get_running_loop()
    opened = [loop.create_future() for _ in range(count)]
    for future in opened:
        await loop.create_connection(lambda f=future: _Reader(f), "127.0.0.1", port)
    await asyncio.gather(*opened)
    print("open", flush=True)
    await loop.create_future()


def clients_main(port: int, count: int) -> None:
    import uvloop

    uvloop.run(_read(port, count))


# --- the measurement -----------------------------------------------------------------------


def wait_listening(port: int) -> None:
    """Until granian's worker accepts connections (a server starting: polled)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return  # (bound: connections wait in its backlog until the worker serves)
        time.sleep(0.1)
    raise SystemExit("granian did not start")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of a process, by thread name (summed over equal names)."""
    ticks: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        name = (task / "comm").read_text().strip()
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        ticks[name] = ticks.get(name, 0) + int(fields[11]) + int(fields[12])
    return {name: t / os.sysconf("SC_CLK_TCK") for name, t in ticks.items()}


def main(args: argparse.Namespace) -> int:
    port = free_port()
    env = dict(os.environ, FLOOR_PACE=str(args.pace), FLOOR_CHUNK=str(args.chunk))
    if args.direct:
        env["FLOOR_DIRECT"] = "1"
    granian = [sys.executable, "-m", "granian", "--interface", "asgi", "--port", str(port)]
    granian += ["--workers", "1", "--runtime-threads", "1", "--loop", "uvloop", "--http", "1"]
    granian += ["--backpressure", str(args.streams + 100), "--no-ws", "sse_floor:app"]
    server = subprocess.Popen(granian, env=env, cwd=BENCH, stderr=subprocess.DEVNULL)
    clients = None
    try:
        wait_listening(port)
        opener = f"import sse_floor; sse_floor.clients_main({port}, {args.streams})"
        clients = subprocess.Popen(
            [sys.executable, "-c", opener], cwd=BENCH, stdout=subprocess.PIPE, text=True
        )
        assert clients.stdout is not None and clients.stdout.readline().strip() == "open"
        time.sleep(2)
        worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
        before, client_before = thread_cpu(worker), thread_cpu(clients.pid)
        time.sleep(args.seconds)
        after, client_after = thread_cpu(worker), thread_cpu(clients.pid)
    finally:
        for process in (clients, server):
            if process is not None:
                process.terminate()
                process.wait(30)
    sends = args.streams / args.pace * args.seconds
    print(f"{args.streams} streams, a {args.chunk}-byte chunk each every {args.pace} s", end="")
    print(" (sent from the fan-out loop)" if args.direct else " (a task per stream)")
    for name in sorted(after):
        used = after[name] - before.get(name, 0)
        if used > 0:
            print(f"  worker thread {name}: {used / args.seconds:.3f} cores, ", end="")
            print(f"{used / sends * 1e6:.1f} µs per send")
    used = sum(client_after.values()) - sum(client_before.values())
    print(f"  stream clients: {used / args.seconds:.3f} cores")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--pace", type=float, default=0.1)
    parser.add_argument("--chunk", type=int, default=11000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--direct", action="store_true")
    raise SystemExit(main(parser.parse_args()))
