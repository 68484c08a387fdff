"""Inserting at a position in a long list: single inserts, a bulk, and appends meanwhile.

    .venv/bin/python bench/positions.py [--todos 100000] [--singles 200] [--bulks 3]
        [--bulk-size 1000] [--append-rate 20] [--insert-rate 5] [--seconds 5] [--rounds 3]
        [--workers 2] [--dense] [--code DIR]

Starts `todoapp serve` on a new database (on DATABASE_URL's server, else a throw-away
embedded PostgreSQL), loads --todos todos into the Inbox and into a second list, one
INSERT ... SELECT generate_series each, spaced as appends leave them (--dense: 1, 2, 3, ...
as before holes), and measures over HTTP:

1. --singles POSTs {"order": 1} to the Inbox, one after another;
2. --bulks POSTs of --bulk-size todos at order 1, one after another;
3. --rounds times, for --seconds each: appends to the Inbox at --append-rate a second
   alone; with inserts at order 1 of the Inbox at --insert-rate (every 20th a bulk); and
   with the same inserts into the second list (the same work for the server, without a
   lock in common: what the appends lose to the machine, not to the Inbox's locks).

Prints latencies (ms: median, p95, max) and the todos moved per POST (each move raises a
version), and writes bench/results/positions-<stamp>.json. --code DIR serves another
checkout's backend (its folder becomes the server's working directory), e.g. the code
before positions had holes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import results as saved  # noqa: E402
from bench.soak import free_port, stop, wait_ready  # noqa: E402
from tests import pg  # noqa: E402


class Timings:
    """Latencies of the requests that succeeded, and how many got which other status."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.failed: Counter[int] = Counter()

    async def time(self, request: Awaitable[httpx.Response], expect: int = 201) -> None:
        start = time.perf_counter()  # the request starts when awaited
        response = await request
        if response.status_code == expect:
            self.seconds.append(time.perf_counter() - start)
        else:
            self.failed[response.status_code] += 1

    def merge(self, other: Timings) -> None:
        self.seconds += other.seconds
        self.failed += other.failed

    def summary(self) -> dict[str, Any]:
        ms = sorted(x * 1000 for x in self.seconds) or [float("nan")]
        p95 = statistics.quantiles(ms, n=20, method="inclusive")[-1] if len(ms) > 1 else ms[0]
        out = {"n": len(self.seconds), "median": round(statistics.median(ms), 1)}
        out |= {"p95": round(p95, 1), "max": round(ms[-1], 1)}
        return out | ({"failed": dict(self.failed)} if self.failed else {})


async def load(url: str, todos: int, dense: bool) -> None:
    """`todos` todos in the Inbox and in a second list, one statement each, then the
    statistics the planner needs."""
    step = 1 if dense else 1000  # positions.GAP: what appends would have left
    conn = await asyncpg.connect(pg.plain(url))
    try:
        await conn.execute("INSERT INTO todo_lists (id, name) VALUES (2, 'Elsewhere')")
        for list_id in (1, 2):
            await conn.execute(
                "INSERT INTO todos (list_id, title, position) "
                "SELECT $3, 'todo ' || i, i * $2 FROM generate_series(1, $1) AS i",
                todos,
                step,
                list_id,
            )
        await conn.execute("UPDATE todo_lists SET last_position = $1", todos * step)
        await conn.execute("VACUUM ANALYZE todos")
    finally:
        await conn.close()


async def at_rate(
    rate: float, seconds: float, request: Callable[[int], Awaitable[httpx.Response]]
) -> Timings:
    """request(n) started `rate` times a second for `seconds`, whether or not the earlier
    ones were answered (an open loop: a slow answer does not slow the load down)."""
    timings, tasks = Timings(), []
    start = time.monotonic()
    while time.monotonic() < start + seconds:
        tasks.append(asyncio.create_task(timings.time(request(len(tasks)))))
        await asyncio.sleep(max(0.0, start + len(tasks) / rate - time.monotonic()))  # pacing
    await asyncio.gather(*tasks)
    return timings


def append(client: httpx.AsyncClient) -> Callable[[int], Awaitable[httpx.Response]]:
    return lambda n: client.post("/api/todos", json={"title": f"appended {n}"})


def at_one(client: httpx.AsyncClient, size: int | None, list_id: int = 1) -> Any:
    """A POST at order 1 of `list_id`: one todo, or a bulk of `size`."""
    body: Any = {"title": "on top", "order": 1, "list_id": list_id}
    if size is not None:
        body = [{"title": f"bulk {i}", "order": 1, "list_id": list_id} for i in range(size)]
    return client.post("/api/todos", json=body)


def inserts(client: httpx.AsyncClient, list_id: int, bulk_size: int) -> Any:
    """Inserts at order 1 of `list_id`, every 20th a bulk."""
    return lambda n: at_one(client, bulk_size if n % 20 == 19 else None, list_id)


async def moved_rows(url: str) -> int:
    """How many times todos moved so far (each move raises a version by one)."""
    conn = await asyncpg.connect(pg.plain(url))
    try:
        return await conn.fetchval("SELECT coalesce(sum(version - 1), 0) FROM todos")
    finally:
        await conn.close()


async def at_one_in_turn(
    client: httpx.AsyncClient, url: str, times: int, size: int | None
) -> dict[str, Any]:
    """`times` POSTs at order 1, one after another: latencies and rows moved per POST."""
    timings, moved = Timings(), await moved_rows(url)
    for _ in range(times):
        await timings.time(at_one(client, size))
    return timings.summary() | {"moved per POST": (await moved_rows(url) - moved) / times}


async def appends_with_and_without(client: httpx.AsyncClient, args: argparse.Namespace) -> dict:
    """Appends to the Inbox alone, while inserts at order 1 go to the Inbox too, and while
    the same inserts go to another list as long (the same work for the server, no shared
    lock), in alternating rounds so a change in the machine's other load hits all alike."""
    names = ["appends alone", "appends + inserts in their list", "appends + inserts elsewhere"]
    results = {name: Timings() for name in [*names, "inserts in the list", "inserts elsewhere"]}
    for _ in range(args.rounds):
        results[names[0]].merge(await at_rate(args.append_rate, args.seconds, append(client)))
        for name, list_id in [(names[1], 1), (names[2], 2)]:
            both = await asyncio.gather(
                at_rate(args.append_rate, args.seconds, append(client)),
                at_rate(args.insert_rate, args.seconds, inserts(client, list_id, args.bulk_size)),
            )
            results[name].merge(both[0])
            results["inserts in the list" if list_id == 1 else "inserts elsewhere"].merge(both[1])
    return {name: timings.summary() for name, timings in results.items()}


async def measure(base: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=256)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        results: dict[str, Any] = {
            "single insert at order 1": await at_one_in_turn(client, url, args.singles, None),
            f"bulk of {args.bulk_size} at order 1": await at_one_in_turn(
                client, url, args.bulks, args.bulk_size
            ),
        }
        results |= await appends_with_and_without(client, args)
        count = (await client.get("/api/lists/1")).json()["active_count"]
        return results | {"todos in the list at the end": count}


@contextmanager
def serving(url: str, code: Path, workers: int) -> Iterator[str]:
    """`todoapp serve` from the checkout `code` on database `url`, migrated and ready;
    yields its base URL."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, LOG_LEVEL="WARNING", WORKERS=str(workers))
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.runtime.cli", "serve", "--port", str(port)],
        cwd=code,  # `-m` imports the backend from the working directory first
        env=env,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(wait_ready(base, proc))
        yield base
    finally:
        stop(proc)


def main(args: argparse.Namespace) -> int:
    with (
        pg.scratch_database(pg.server_url(), "bench_positions") as url,
        serving(url, args.code, args.workers) as base,
    ):
        asyncio.run(load(url, args.todos, args.dense))
        results = asyncio.run(measure(base, url, args))
    print(f"\n{args.todos} todos in each of two lists ({'dense' if args.dense else 'spaced'}):")
    for name, value in results.items():
        print(f"  {name:30s} {value}")
    args_out = {**vars(args), "code": str(args.code)}
    saved.save("positions", {"args": args_out, "results": results})
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--todos", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--bulks", type=int, default=3)
    parser.add_argument("--bulk-size", type=int, default=1000)
    parser.add_argument("--append-rate", type=float, default=20)
    parser.add_argument("--insert-rate", type=float, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dense", action="store_true")
    parser.add_argument("--code", type=Path, default=REPO)
    raise SystemExit(main(parser.parse_args()))
