"""The live feed under load: N event streams on one worker while writers make changes.

    .venv/bin/python bench/live.py [--streams 1000] [--writers 4] [--seconds 20] [--probes 100]
                                   [--auth on|off] [--users 1] [--profile FILE]

Starts `todoapp serve` (granian, 1 worker) on DATABASE_URL, else on a throw-away embedded
PostgreSQL. With --auth on (the default, as the server's) it signs up a user whose access
token the writers and the streams send; with --users N the streams are spread over N users,
the writers' list shared with the N-1 others (as viewers), so that every stream receives
every change. Then it measures, in this order:

1. the writers alone: closed-loop PATCHes that toggle 50 todos each in turn (one change, one event
   each), for --seconds: req/s;
2. the worker's RSS before and after opening --streams idle streams: KiB per idle stream;
3. the writers again, with every stream open and reading every change: req/s, events
   delivered per second (over all streams), and the delay from commit to receipt, p50 / p99,
   over the events of --probes streams spread over the N (an event's `at` is the database's
   clock at the change; it is compared with this machine's clock when the event is read);
4. the writers with the N streams open on another list (their events are for none of them);
5. the writers alone again (how much the machine drifted);
6. what the event triggers cost a write in the database: single-row UPDATEs with them and
   without (disabled for the measurement), interleaved.

Each phase also says how many cores the worker, PostgreSQL (when started here) and the
stream clients used. The streams run in a child process (uvloop, raw sockets, a Protocol
each), so reading them does not slow the writers' event loop; all of it shares the
machine's cores with the server and PostgreSQL. Prints a summary and writes
bench/results/live-<stamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing as mp
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WRITERS_TODOS = 50  # todos each writer toggles in turn (see write_for)
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

import results  # noqa: E402
from soak import free_port, rss_mib, wait_ready  # noqa: E402

# --- the streams (child process) ---------------------------------------------------------


@dataclass
class StreamStats:
    ready: bool = False
    events: int = 0
    resets: int = 0
    delays: list[float] = field(default_factory=list)
    buffer: bytes = b""


class StreamClient(asyncio.Protocol):
    """One GET /api/events; counts events; a probe also parses them for their delay."""

    def __init__(self, stats: StreamStats, probe: bool, host: str, path: str, headers: str) -> None:
        self.stats, self.probe, self.host, self.path = stats, probe, host, path
        self.headers = headers  # extra header lines (credentials), each ending in CRLF
        self.opened: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.head = b""  # what came before `ready`

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        request = f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\n{self.headers}\r\n"
        transport.write(request.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(False)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        stats = self.stats
        if not self.opened.done():
            self.head += data
            if not self.head.startswith(b"HTTP/1.1 200"[: len(self.head)]):
                self.transport.close()  # 503 (busy): the opener retries
                return
            if b"event: ready" not in self.head:
                return
            stats.ready = True
            self.opened.set_result(True)
        stats.events += data.count(b"\nevent: todos.")
        stats.resets += data.count(b"\nevent: reset")
        if self.probe:
            text = stats.buffer + data
            lines = text.split(b"\n")
            stats.buffer = lines.pop()
            for line in lines:
                if line.startswith(b'data: {"id"') and b'"kind":"todos.' in line:
                    stats.delays.append(now - _at(line))


def _at(line: bytes) -> float:
    """The event's `at` (a top-level field, before its todos), as a Unix time. Found, not
    parsed as JSON: the probes share the machine's two cores with the server, and a full
    parse of every event they read cost most of the stream clients' CPU."""
    start = line.index(b'"at":"') + 6
    return datetime.fromisoformat(line[start : line.index(b'"', start)].decode()).timestamp()


def streams_main(
    url: str, path: str, count: int, probes: int, tokens: list[str | None], conn: Any
) -> None:
    import uvloop

    uvloop.run(_streams(url, path, count, probes, tokens, conn))


def _auth_header(token: str | None) -> str:
    return "" if token is None else f"Authorization: Bearer {token}\r\n"


async def _open(
    host: str, port: int, path: str, stats: StreamStats, probe: bool, headers: str, gate: Any
) -> int:
    """Open one stream (at most `gate` opening at once, like clients arriving over a few
    seconds); retries a refused one. Returns how many tries it took."""
    loop = asyncio.get_running_loop()
    async with gate:
        for tries in range(1, 100):
            _, client = await loop.create_connection(
                lambda: StreamClient(stats, probe, host, path, headers), host, port
            )
            if await client.opened:
                return tries
            await asyncio.sleep(0.2)  # refused: a client backs off before it retries
    raise SystemExit("a stream could not be opened")


async def _streams(
    url: str, path: str, count: int, probes: int, tokens: list[str | None], conn: Any
) -> None:
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    every = max(1, count // max(probes, 1))
    stats = [StreamStats() for _ in range(count)]
    gate = asyncio.Semaphore(50)
    opening = [
        _open(host, int(port), path, s, i % every == 0, _auth_header(tokens[i % len(tokens)]), gate)
        for i, s in enumerate(stats)
    ]
    tries = await asyncio.gather(*opening)
    conn.send({"refused": sum(tries) - count})
    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        if command == "reset":
            for s in stats:
                s.events, s.resets, s.delays = 0, 0, []
        elif command == "report":
            conn.send(
                {
                    "events": sum(s.events for s in stats),
                    "resets": sum(s.resets for s in stats),
                    "delays": [d for s in stats for d in s.delays],
                }
            )


class Streams:
    """The child process holding the streams, driven through a pipe."""

    def __init__(
        self, url: str, path: str, count: int, probes: int, tokens: list[str | None]
    ) -> None:
        self.conn, child = mp.Pipe()
        self.process = mp.get_context("spawn").Process(
            target=streams_main, args=(url, path, count, probes, tokens, child)
        )

    async def ask(self, command: str | None = None) -> Any:
        if command is not None:
            self.conn.send(command)
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    async def __aenter__(self) -> Streams:
        self.process.start()
        self.opened = await self.ask()
        return self

    async def __aexit__(self, *_: object) -> None:
        self.conn.send("stop")
        self.process.join(30)


# --- the writers -------------------------------------------------------------------------


async def write_for(client: httpx.AsyncClient, todo_ids: list[int], seconds: float) -> float:
    """Closed-loop toggles for `seconds` by WRITERS_TODOS-sized groups of the todos, one
    writer per group, each toggling its todos in turn; returns req/s.

    Why groups, not one todo per writer: a row updated hundreds of times a second leaves
    thousands of dead versions, all behind the same key in every index of `todos`, until
    autovacuum comes by (a minute on the defaults); each update then walks them all, and
    PostgreSQL's CPU per write doubled within one run of this benchmark."""
    done = 0
    stop = time.monotonic() + seconds
    writers = len(todo_ids) // WRITERS_TODOS
    groups = [todo_ids[i::writers] for i in range(writers)]
    completed = dict.fromkeys(todo_ids, False)

    async def writer(group: list[int]) -> None:
        nonlocal done
        for turn in itertools.count():
            if time.monotonic() >= stop:
                return
            todo_id = group[turn % len(group)]
            completed[todo_id] = not completed[todo_id]
            body = {"completed": completed[todo_id]}
            response = await client.patch(f"/api/todos/{todo_id}", json=body)
            response.raise_for_status()
            done += 1

    start = time.monotonic()
    await asyncio.gather(*(writer(g) for g in groups))
    return done / (time.monotonic() - start)


# --- the run -----------------------------------------------------------------------------


def profile(args: argparse.Namespace, server_pid: int) -> subprocess.Popen[bytes] | None:
    """With --profile FILE: py-spy samples the worker while the writers run with the streams
    (read it with bench/profile_top.py FILE)."""
    if not args.profile:
        return None
    worker = max(p for p in rss_mib(server_pid) if p != server_pid)
    command = ["py-spy", "record", "-f", "raw", "-o", args.profile, "--pid", str(worker)]
    command += ["-d", str(int(args.seconds)), "--nonblocking"]
    return subprocess.Popen([str(REPO / ".venv/bin" / command[0]), *command[1:]])


def worker_rss_kib(server_pid: int) -> float:
    """RSS of granian's worker process (the server's tree without its main process)."""
    per = rss_mib(server_pid)
    return sum(mib for pid, mib in per.items() if pid != server_pid) * 1024


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


async def writers_phase(
    name: str, client: httpx.AsyncClient, todos: list[int], seconds: float, pids: dict
) -> dict[str, Any]:
    """Writers for `seconds`; their req/s and the CPU share each process group used."""
    before = {group: cpu_seconds(p) for group, p in pids.items()}
    started = time.monotonic()
    req_s = await write_for(client, todos, seconds)
    elapsed = time.monotonic() - started
    cpu = {group: (cpu_seconds(p) - before[group]) / elapsed for group, p in pids.items()}
    print(f"{name}: {req_s:.0f} req/s", flush=True)
    return {"req_s": req_s, "cpu_cores": cpu, "seconds": elapsed}


async def new_user(url: str, name: str) -> str:
    """Sign up `name` (from the server's own origin, as its pages do); a new access token."""
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"Origin": url}) as browser:
        password = {"username": name, "password": f"{name}'s long bench secret"}
        (await browser.post("/api/auth/signup", json=password)).raise_for_status()
        created = await browser.post("/api/tokens", json={"name": "bench"})
        created.raise_for_status()
        return created.json()["token"]


async def stream_tokens(args: argparse.Namespace, url: str) -> list[str | None]:
    """The writers' token first, then one per other user of the streams (None: AUTH=off)."""
    if args.auth == "off":
        return [None]
    tokens = [await new_user(url, "bench")]
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=bearer(tokens[0])) as owner:
        inbox = (await owner.get("/api/lists")).json()[0]["id"]
        for i in range(1, args.users):
            tokens.append(await new_user(url, f"bench{i}"))
            member = f"/api/lists/{inbox}/members/bench{i}"
            (await owner.put(member, json={"role": "viewer"})).raise_for_status()
    return tokens


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


async def measure(args: argparse.Namespace, url: str, server_pid: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    worker = max(p for p in rss_mib(server_pid) if p != server_pid)
    pids: dict[str, list[int]] = {"worker": [worker], "postgres": postgres_pids()}
    tokens = await stream_tokens(args, url)
    headers = bearer(tokens[0])
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
        todos = [
            (await client.post("/api/todos", json={"title": f"bench {i}"})).json()["id"]
            for i in range(args.writers * WRITERS_TODOS)
        ]
        other = (await client.post("/api/lists", json={"name": "elsewhere"})).json()["id"]
        await write_for(client, todos, 3)  # warm-up
        result["alone"] = await writers_phase("writers alone", client, todos, args.seconds, pids)
        rss_before = worker_rss_kib(server_pid)
        async with Streams(url, "/api/events", args.streams, args.probes, tokens) as streams:
            result["refused_while_opening"] = streams.opened["refused"]
            await asyncio.sleep(3)  # let the worker settle before sampling its memory
            rss_after = worker_rss_kib(server_pid)
            result["rss_worker_kib"] = {"before": rss_before, "with_streams": rss_after}
            result["rss_per_idle_stream_kib"] = (rss_after - rss_before) / args.streams
            print(f"RSS per idle stream: {result['rss_per_idle_stream_kib']:.1f} KiB", flush=True)
            pids["stream clients"] = [streams.process.pid]
            streams.conn.send("reset")
            profiler = profile(args, server_pid)
            result["with_streams"] = phase = await writers_phase(
                "writers, every stream reading every change", client, todos, args.seconds, pids
            )
            if profiler is not None:
                profiler.wait()
            await asyncio.sleep(1)  # the last events on their way
            report = await streams.ask("report")
            del pids["stream clients"]
        phase.update(delivery(report, phase["seconds"]))
        # (the writers' user's streams: a list only they see)
        async with Streams(url, f"/api/events?list_id={other}", args.streams, 0, tokens[:1]):
            result["streams_of_another_list"] = await writers_phase(
                "writers, streams open on another list", client, todos, args.seconds, pids
            )
        result["alone_again"] = await writers_phase(
            "writers alone again", client, todos, args.seconds, pids
        )
    return result


def delivery(report: dict[str, Any], seconds: float) -> dict[str, Any]:
    delays = sorted(report["delays"])
    return {
        "events_delivered_per_s": report["events"] / seconds,
        "resets": report["resets"],
        "delay_ms": {
            "samples": len(delays),
            "p50": 1000 * statistics.median(delays) if delays else None,
            "p99": 1000 * delays[int(0.99 * (len(delays) - 1))] if delays else None,
            "max": 1000 * delays[-1] if delays else None,
        },
    }


def postgres_pids() -> list[int]:
    """The processes of the PostgreSQL this run started (none when DATABASE_URL is given)."""
    pid_file = Path(os.environ.get("BENCH_PGDATA", "/nonexistent")) / "postmaster.pid"
    if not pid_file.exists():
        return []
    postmaster = int(pid_file.read_text().split()[0])
    return [postmaster, *(p for p in rss_mib(postmaster) if p != postmaster)]


async def trigger_cost(database_url: str, rounds: int = 5, updates: int = 1000) -> dict[str, Any]:
    """The database's time for single-row UPDATEs of a todo with the event triggers on and
    off (ALTER TABLE ... DISABLE TRIGGER), interleaved: what recording events costs a write."""
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        todo = await conn.fetchval(
            "INSERT INTO todos (list_id, title, position) VALUES "
            "((SELECT min(id) FROM todo_lists), 'trigger cost', 2000000000) RETURNING id"
        )
        update = "UPDATE todos SET completed = NOT completed, version = version + 1 WHERE id = $1"
        times: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(rounds):
            for state in ("on", "off"):
                switch = "ENABLE" if state == "on" else "DISABLE"
                await conn.execute(f"ALTER TABLE todos {switch} TRIGGER USER")
                started = time.perf_counter()
                for _ in range(updates):
                    await conn.execute(update, todo)
                times[state].append((time.perf_counter() - started) / updates * 1e6)
        await conn.execute("ALTER TABLE todos ENABLE TRIGGER USER")
        await conn.execute("DELETE FROM todos WHERE id = $1", todo)
    finally:
        await conn.close()
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    return {"update_us_with_triggers": on, "update_us_without": off, "trigger_us": on - off}


def start_database() -> tuple[str, str | None]:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], None
    from backend.runtime import embedded

    data_dir = tempfile.mkdtemp(prefix="todoapp-live-bench-")
    os.environ["BENCH_PGDATA"] = str(Path(data_dir) / "pgdata")  # for its CPU time
    return embedded.start(Path(data_dir), "bench", delete_on_exit=True), data_dir


def main(args: argparse.Namespace) -> int:
    database_url, data_dir = start_database()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=database_url, WORKERS="1", LOG_LEVEL="WARNING")
    env["AUTH"] = args.auth
    env["MAX_STREAMS"] = str(max(args.streams + 10, 2000))
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/todoapp"), "serve", "--port", str(port)],
        env=env,
        start_new_session=True,
    )
    try:
        asyncio.run(wait_ready(url, proc))
        result = asyncio.run(measure(args, url, proc.pid))
        result["trigger_cost"] = asyncio.run(trigger_cost(database_url))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        if data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    result["args"] = vars(args)
    print(json.dumps(result, indent=1))
    results.save("live", result)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--auth", choices=["on", "off"], default="on")
    parser.add_argument("--users", type=int, default=1, help="users the streams belong to")
    parser.add_argument("--profile", help="py-spy's samples of the worker with the streams")
    raise SystemExit(main(parser.parse_args()))
