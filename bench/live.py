"""The live feed under load: N event streams on one worker while writers make changes.

    .venv/bin/python bench/live.py [--streams 1000] [--writers 4] [--seconds 10] [--rounds 3]
                                   [--probes 100] [--auth on|off] [--users 1] [--pace S]
                                   [--profile FILE]

Starts `todoapp serve` (granian, 1 worker) on DATABASE_URL, else on a throw-away embedded
PostgreSQL; --pace sets its EVENTS_PACE. With --auth on (the default, as the server's) it
signs up a user whose access token the writers and the streams send; with --users N the
streams are spread over N users, the writers' list shared with the N-1 others (as viewers),
so that every stream receives every change. The writers are `wrk` (Debian's package, as the
peer harness's): --writers connections, closed-loop, PATCHes that rename 50 todos each in
turn (one change, one event each). Then it measures, for --seconds each:

1. --rounds times, in turn: the writers alone (req/s); then --streams streams opened, the
   writers with every stream reading every change (req/s, events delivered per second over
   all streams, and the delay from commit to receipt over the events of --probes streams:
   an event's `at` is the database's clock at the change, compared with this machine's
   clock when the event is read), and the streams closed. The first round also takes the
   worker's RSS before and after opening the streams: KiB per idle stream;
2. the writers alone once more: each round's change is its rate with the streams against
   the mean of the phases alone just before and just after it (the machine drifts, by 25 %
   within a run at times), and the summary gives their median;
3. the writers with the N streams open on another list (their events are for none of them);
4. what the event triggers cost a write in the database: single-row UPDATEs with them and
   without (disabled for the measurement), interleaved.

Each phase also says how many cores the worker, PostgreSQL (when started here), the writers
and the stream clients used. The streams run in a child process (uvloop, raw sockets, a
Protocol each); all of it shares the machine's cores with the server and PostgreSQL.
Prints a summary and writes bench/results/live-<stamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
T = TypeVar("T")
WRITERS_TODOS = 50  # todos per writer, renamed in turn (see write_for)
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
        if b"event: reset" in data:
            stats.resets += data.count(b"\nevent: reset")
        if self.probe:
            self.delays(data, now)

    def delays(self, data: bytes, now: float) -> None:
        """The delay of every event whose line is complete: its `at` (a top-level field,
        before its todos) found, not parsed as JSON. The probes share the machine's two
        cores with the server, and a full parse of every event cost most of the stream
        clients' CPU (so did splitting every chunk into lines)."""
        text = self.stats.buffer + data
        end = text.rfind(b"\n") + 1
        self.stats.buffer = text[end:]
        found = text.find(AT, 0, end)
        while found >= 0:
            start = found + len(AT)
            close = text.index(b'"', start)
            at = datetime.fromisoformat(text[start:close].decode()).timestamp()
            self.stats.delays.append(now - at)
            found = text.find(AT, close, end)


AT = b'"at":"'  # in the data of a change's event only (a todo's own times are "..._at")


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


async def write_for(run: Run, seconds: float) -> float:
    """`--writers` connections of wrk, closed-loop, for `seconds`: PATCHes that rename the
    todos in turn (live_writes.lua); returns req/s. Every answer must be a 2xx.

    Why wrk, not a Python client: the writers share the machine's two cores with the
    server, PostgreSQL and the stream clients, and httpx spent 1.3-1.6 ms of CPU per request
    (more than the server), so the writers' own client was what the streams slowed down.
    Why many todos: a row updated hundreds of times a second leaves thousands of dead
    versions behind one key in every index of `todos` until autovacuum comes by, and
    PostgreSQL's CPU per write doubled within one run."""
    run.runs += 1
    env = dict(os.environ, TODO_IDS=",".join(map(str, run.todos)), RUN=str(run.runs))
    env["TOKEN"] = run.tokens[0] or ""
    command = ["wrk", "-t1", f"-c{run.args.writers}", f"-d{seconds:g}s"]
    command += ["-s", str(BENCH / "live_writes.lua"), run.url]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE
    )
    out = (await process.communicate())[0].decode()
    if process.returncode != 0 or "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"the writers failed:\n{out}")
    return float(out.split("Requests/sec:")[1].split()[0])


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


@dataclass
class Run:
    """What the phases of one run share."""

    args: argparse.Namespace
    url: str
    server_pid: int
    tokens: list[str | None]
    todos: list[int]
    pids: dict[str, list[int]]  # the processes whose CPU each phase reports, by role
    database_url: str
    runs: int = 0  # wrk runs so far

    async def writers(self, name: str, seconds: float | None = None) -> dict[str, Any]:
        """The writers for `seconds` (--seconds); their req/s and the CPU each part used."""
        wrk_before = children_cpu_seconds()
        work = write_for(self, seconds or self.args.seconds)
        req_s, cpu, elapsed = await cpu_for(self.pids, work)
        cpu["writers (wrk)"] = (children_cpu_seconds() - wrk_before) / elapsed
        print(f"{name}: {req_s:.0f} req/s", flush=True)
        return {"req_s": req_s, "cpu_cores": cpu, "seconds": elapsed}


def children_cpu_seconds() -> float:
    """User + system CPU of the children that ended so far (wrk, once it is waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def measure(
    args: argparse.Namespace, url: str, server_pid: int, database_url: str
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    worker = max(p for p in rss_mib(server_pid) if p != server_pid)
    pids = {"worker": [worker], "postgres": postgres_pids()}
    tokens = await stream_tokens(args, url)
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=bearer(tokens[0])) as client:
        todos = [
            (await client.post("/api/todos", json={"title": f"bench {i}"})).json()["id"]
            for i in range(args.writers * WRITERS_TODOS)
        ]
        other = (await client.post("/api/lists", json={"name": "elsewhere"})).json()["id"]
    run = Run(args, url, server_pid, tokens, todos, pids, database_url)
    await run.writers("warm-up", 3)
    alone, reading = [], []
    for n in range(1, args.rounds + 1):
        alone.append(await run.writers(f"{n}. writers alone"))
        reading.append(await reading_phase(run, n, result))
    alone.append(await run.writers("writers alone again"))
    result["alone"], result["with_streams"] = alone, reading
    # (the writers' user's streams: a list only they see)
    async with Streams(url, f"/api/events?list_id={other}", args.streams, 0, tokens[:1]):
        result["streams_of_another_list"] = await run.writers(
            "writers, streams open on another list"
        )
    result["summary"] = summary(alone, reading)
    return result


async def reading_phase(run: Run, n: int, result: dict[str, Any]) -> dict[str, Any]:
    """Open the streams, run the writers with every stream reading every change, close the
    streams. The first round also measures the worker's RSS per idle stream (and is the
    one profiled with --profile)."""
    args = run.args
    rss_before = worker_rss_kib(run.server_pid)
    async with Streams(run.url, "/api/events", args.streams, args.probes, run.tokens) as streams:
        if n == 1:
            result["refused_while_opening"] = streams.opened["refused"]
            await asyncio.sleep(3)  # let the worker settle before sampling its memory
            rss_after = worker_rss_kib(run.server_pid)
            result["rss_worker_kib"] = {"before": rss_before, "with_streams": rss_after}
            result["rss_per_idle_stream_kib"] = (rss_after - rss_before) / args.streams
            print(f"RSS per idle stream: {result['rss_per_idle_stream_kib']:.1f} KiB", flush=True)
        run.pids["stream clients"] = [streams.process.pid]
        streams.conn.send("reset")
        profiler = profile(args, run.server_pid) if n == 1 else None
        phase = await run.writers(f"{n}. writers, every stream reading every change")
        if profiler is not None:
            profiler.wait()
        await asyncio.sleep(1)  # the last events on their way
        report = await streams.ask("report")
        if n == 1:
            result["fan_out"] = await fan_out_cost(run)
        del run.pids["stream clients"]
    phase.update(delivery(report, phase["seconds"]))
    return phase


async def fan_out_cost(run: Run) -> dict[str, Any]:
    """What the fan-out alone costs: the CPU of the worker and of the stream clients while
    --rate changes a second are made straight in the database (no HTTP writer; the same one
    event per change), less their CPU with the streams open and no change, --seconds each."""
    import asyncpg

    conn = await asyncpg.connect(run.database_url.replace("+asyncpg", ""))
    try:
        _, quiet, _ = await cpu_for(run.pids, asyncio.sleep(run.args.seconds))
        made, busy, elapsed = await cpu_for(run.pids, changes(conn, run))
    finally:
        await conn.close()
    cost = {group: busy[group] - quiet[group] for group in ("worker", "stream clients")}
    rate = made / elapsed
    print(f"fan-out alone, {rate:.0f} changes/s: {cost} cores", flush=True)
    return {"changes_per_s": rate, "quiet": quiet, "busy": busy, "cores": cost}


async def changes(conn: Any, run: Run) -> int:
    """--rate renames a second, on schedule, for --seconds; how many were made."""
    update = "UPDATE todos SET title = $2, version = version + 1 WHERE id = $1"
    started, made = time.monotonic(), 0
    while (now := time.monotonic()) < started + run.args.seconds:
        due = started + made / run.args.rate
        if due > now:
            await asyncio.sleep(due - now)
        await conn.execute(update, run.todos[made % len(run.todos)], f"fan-out {made}")
        made += 1
    return made


async def cpu_for(
    pids: dict[str, list[int]], work: Awaitable[T]
) -> tuple[T, dict[str, float], float]:
    """What `work` returned, the cores each group of processes used meanwhile, and the
    seconds it took. (PostgreSQL's processes are listed again: its backends come with the
    connections.)"""
    if "postgres" in pids:
        pids["postgres"] = postgres_pids()
    before = {group: cpu_seconds(p) for group, p in pids.items()}
    started = time.monotonic()
    result = await work
    elapsed = time.monotonic() - started
    cpu = {group: (cpu_seconds(p) - before[group]) / elapsed for group, p in pids.items()}
    return result, cpu, elapsed


def summary(alone: list[dict[str, Any]], reading: list[dict[str, Any]]) -> dict[str, Any]:
    """Each round's writers with the streams against the mean of the phases alone just
    before and just after it (the machine drifts); the median over the rounds."""
    changes = [
        phase["req_s"] / statistics.mean([before["req_s"], after["req_s"]]) - 1
        for phase, before, after in zip(reading, alone, alone[1:], strict=False)
    ]
    delays = sorted(d for phase in reading for d in phase.pop("delays"))
    return {
        "writers_alone_req_s": [round(p["req_s"], 1) for p in alone],
        "writers_with_streams_req_s": [round(p["req_s"], 1) for p in reading],
        "change_per_round": [round(c, 4) for c in changes],
        "median_change": statistics.median(changes),
        "events_delivered_per_s": statistics.median(p["events_delivered_per_s"] for p in reading),
        "resets": sum(p["resets"] for p in reading),
        "delay_ms": percentiles(delays),
    }


def headline(result: dict[str, Any]) -> str:
    s = result["summary"]
    delay = s["delay_ms"]
    return (
        f"writers alone {s['writers_alone_req_s']} req/s; with every stream reading "
        f"{s['writers_with_streams_req_s']}: change per round {s['change_per_round']}, median "
        f"{s['median_change']:+.1%}; delay p50 {delay['p50']:.0f} ms, p99 {delay['p99']:.0f} ms; "
        f"{s['events_delivered_per_s']:,.0f} events/s delivered; "
        f"{result['rss_per_idle_stream_kib']:.1f} KiB per idle stream; resets {s['resets']}"
    )


def delivery(report: dict[str, Any], seconds: float) -> dict[str, Any]:
    """A phase's deliveries; its delays stay (unsorted) for the summary, which pools them."""
    delays = report["delays"]
    return {
        "events_delivered_per_s": report["events"] / seconds,
        "resets": report["resets"],
        "delay_ms": percentiles(sorted(delays)),
        "delays": delays,
    }


def percentiles(delays: list[float]) -> dict[str, Any]:
    """p50 / p99 / max in ms of sorted delays (seconds)."""
    return {
        "samples": len(delays),
        "p50": 1000 * statistics.median(delays) if delays else None,
        "p99": 1000 * delays[int(0.99 * (len(delays) - 1))] if delays else None,
        "max": 1000 * delays[-1] if delays else None,
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
    if args.pace is not None:
        env["EVENTS_PACE"] = str(args.pace)
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/todoapp"), "serve", "--port", str(port)],
        env=env,
        start_new_session=True,
    )
    try:
        asyncio.run(wait_ready(url, proc))
        result = asyncio.run(measure(args, url, proc.pid, database_url))
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
    print(headline(result), flush=True)
    results.save("live", result)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10, help="per phase")
    parser.add_argument("--rounds", type=int, default=3, help="alone / with streams, in turn")
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--auth", choices=["on", "off"], default="on")
    parser.add_argument("--users", type=int, default=1, help="users the streams belong to")
    parser.add_argument("--rate", type=float, default=300, help="changes/s, fan-out alone")
    parser.add_argument("--pace", type=float, help="the server's EVENTS_PACE (seconds)")
    parser.add_argument("--profile", help="py-spy's samples of the worker with the streams")
    raise SystemExit(main(parser.parse_args()))
