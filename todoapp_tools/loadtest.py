"""`todoapp loadtest`: a small load generator that also checks the answers it got.

N clients run a mixed workload for S seconds against a list of their own (created at the
start, deleted at the end unless --keep): create, read, toggle, rename, delete todos and read
the list. Every client remembers what the server acknowledged for its own todos, so at the
end the run verifies that

* every acknowledged create is readable, with the last acknowledged `completed` and title;
* no acknowledged delete is still readable;
* the list's counts and its ids (all pages, following `Link: rel="next"`) match what was
  created.

A request whose outcome is unknown (5xx, connection error) makes the todo it touched
"uncertain": it is not checked, and the totals allow for it. Throughput, latency percentiles
and statuses are printed; the exit status is 1 when verification fails. While it runs, the
HTTP client's per-request log lines are silenced: the output is the progress line and the
report.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

import httpx

VERIFY_RETRIES = 5
# httpx logs every request at INFO (httpcore its connection steps at DEBUG): thousands of
# lines a second over the progress line at the CLI's default level.
HTTP_CLIENT_LOGGERS = ("httpx", "httpcore")


@dataclass
class Expected:
    """What the server acknowledged last for one todo; None: unknown (do not check)."""

    completed: bool | None = False
    title: str | None = None


@dataclass
class ClientState:
    todos: dict[int, Expected] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    maybe_deleted: set[int] = field(default_factory=set)
    uncertain_creates: int = 0


@dataclass
class Report:
    url: str
    clients: int
    duration_s: float
    requests: int = 0
    rps: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    by_operation: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    list_id: int | None = None
    created: int = 0
    deleted: int = 0
    uncertain: int = 0
    expected_in_list: int = 0
    listed: int | None = None
    verified_todos: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok}, indent=1)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {op: [] for op in OPERATIONS}
        self.statuses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.count = 0

    def record(self, op: str, seconds: float, status: int | None, error: str | None = None) -> None:
        self.count += 1
        self.latencies[op].append(seconds)
        if status is not None:
            self.statuses[str(status)] += 1
            if status >= 400:
                self.errors[str(status)] += 1
        else:
            self.errors[error or "error"] += 1

    def all_sorted(self) -> list[float]:
        return sorted(x for values in self.latencies.values() for x in values)


# --- the workload: one simulated client, one coroutine per operation ---------------------


@dataclass
class Worker:
    """One simulated client: the shared connection pool, its own todos and random stream."""

    client: httpx.AsyncClient
    rec: Recorder
    state: ClientState
    list_id: int
    rng: random.Random
    name: str
    serial: int = 0

    async def request(self, op: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        """The answer, recorded under `op`; None when there was none (transport error)."""
        start = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kw)
        except httpx.HTTPError as error:
            self.rec.record(op, time.perf_counter() - start, None, type(error).__name__)
            return None
        self.rec.record(op, time.perf_counter() - start, response.status_code)
        return response

    def pick(self) -> int:
        """One of this client's live todos (the loop makes sure there is one)."""
        return self.rng.choice(list(self.state.todos))

    def title(self, what: str) -> str:
        self.serial += 1
        return f"{self.name} {what} {self.serial}"


def _unknown_outcome(response: httpx.Response | None) -> bool:
    # A 4xx was refused (nothing changed); a 5xx or no answer may or may not have applied.
    return response is None or response.status_code >= 500


async def list_todos(w: Worker, op: str) -> None:
    await w.request(op, "GET", f"/api/todos?list_id={w.list_id}&limit=50")


async def get_todo(w: Worker, op: str) -> None:
    await w.request(op, "GET", f"/api/todos/{w.pick()}")


async def create_todo(w: Worker, op: str) -> None:
    title = w.title("todo")
    r = await w.request(op, "POST", "/api/todos", json={"title": title, "list_id": w.list_id})
    if r is not None and r.status_code == 201:
        w.state.todos[r.json()["id"]] = Expected(False, title)
    elif _unknown_outcome(r):
        w.state.uncertain_creates += 1


async def _patch(w: Worker, op: str, todo_id: int, name: str, value: bool | str) -> None:
    """PATCH one field; remember the value if acknowledged, "unknown" if the outcome is."""
    r = await w.request(op, "PATCH", f"/api/todos/{todo_id}", json={name: value})
    if r is not None and r.status_code == 200:
        setattr(w.state.todos[todo_id], name, value)
    elif _unknown_outcome(r):
        setattr(w.state.todos[todo_id], name, None)


async def toggle_todo(w: Worker, op: str) -> None:
    todo_id = w.pick()
    await _patch(w, op, todo_id, "completed", w.rng.random() < 0.5)


async def rename_todo(w: Worker, op: str) -> None:
    todo_id = w.pick()
    await _patch(w, op, todo_id, "title", w.title("renamed"))


async def delete_todo(w: Worker, op: str) -> None:
    todo_id = w.pick()
    r = await w.request(op, "DELETE", f"/api/todos/{todo_id}")
    if r is not None and r.status_code == 204:
        del w.state.todos[todo_id]
        w.state.deleted.add(todo_id)
    elif _unknown_outcome(r):
        del w.state.todos[todo_id]
        w.state.maybe_deleted.add(todo_id)


Operation = Callable[[Worker, str], Awaitable[None]]
# operation -> (weight, coroutine): roughly a UI session, reads outnumbering writes.
OPERATIONS: dict[str, tuple[int, Operation]] = {
    "list": (20, list_todos),
    "get": (25, get_todo),
    "create": (25, create_todo),
    "toggle": (18, toggle_todo),
    "rename": (7, rename_todo),
    "delete": (5, delete_todo),
}


async def _client(w: Worker, deadline: float) -> None:
    names = list(OPERATIONS)
    weights = [weight for weight, _ in OPERATIONS.values()]
    while time.monotonic() < deadline:
        op = w.rng.choices(names, weights)[0]
        if not w.state.todos and op != "list":
            op = "create"  # the others need a todo of this client's
        await OPERATIONS[op][1](w, op)


# --- verification: what the server holds against what it acknowledged -------------------


async def _get_retrying(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """Verification reads: a 503 (the server shedding the load we just made) is retried."""
    for attempt in range(VERIFY_RETRIES):
        try:
            response = await client.get(url)
        except httpx.TransportError:
            if attempt == VERIFY_RETRIES - 1:
                raise
        else:
            if response.status_code != 503 or attempt == VERIFY_RETRIES - 1:
                return response
        await asyncio.sleep(0.2 * 2**attempt)  # backoff between retries, not synchronisation
    raise AssertionError("unreachable")


async def _list_ids(client: httpx.AsyncClient, list_id: int) -> list[int]:
    """All todo ids of the list, following the Link rel="next" pages."""
    url: str | None = f"/api/todos?list_id={list_id}&limit=1000"
    ids: list[int] = []
    while url:
        response = await _get_retrying(client, url)
        response.raise_for_status()
        ids += [item["id"] for item in response.json()]
        url = response.links.get("next", {}).get("url")
    return ids


def _merge(states: list[ClientState]) -> ClientState:
    """All clients' knowledge as one (each client's todos are its own)."""
    merged = ClientState()
    for state in states:
        merged.todos.update(state.todos)
        merged.deleted |= state.deleted
        merged.maybe_deleted |= state.maybe_deleted
        merged.uncertain_creates += state.uncertain_creates
    return merged


def _compare(todo_id: int, expected: Expected | None, response: httpx.Response) -> list[str]:
    """What is wrong with the GET of a todo; `expected` None: an acknowledged delete."""
    status = response.status_code
    if expected is None:
        return [] if status == 404 else [f"deleted todo {todo_id}: GET {status}"]
    if status != 200:
        return [f"acknowledged todo {todo_id}: GET {status}"]
    body = response.json()
    failures = []
    if expected.completed is not None and body["completed"] != expected.completed:
        failures.append(
            f"todo {todo_id}: completed={body['completed']}, acknowledged {expected.completed}"
        )
    if expected.title is not None and body["title"] != expected.title:
        failures.append(f"todo {todo_id}: title {body['title']!r}, acknowledged {expected.title!r}")
    return failures


async def _check_todos(
    client: httpx.AsyncClient, report: Report, acked: ClientState, concurrency: int
) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def check(todo_id: int, expected: Expected | None) -> None:
        async with gate:
            response = await _get_retrying(client, f"/api/todos/{todo_id}")
        report.failures += _compare(todo_id, expected, response)
        if expected is not None and response.status_code == 200:
            report.verified_todos += 1

    await asyncio.gather(
        *(check(i, e) for i, e in acked.todos.items()), *(check(i, None) for i in acked.deleted)
    )


async def _check_list(
    client: httpx.AsyncClient, report: Report, acked: ClientState, list_id: int
) -> None:
    """The list's counts, then its listing, against the acknowledged todos."""
    response = await _get_retrying(client, f"/api/lists/{list_id}")
    if response.status_code != 200:
        report.failures.append(f"list {list_id}: GET {response.status_code}")
        return
    counts = response.json()
    report.listed = total = counts["active_count"] + counts["completed_count"]
    low, high = len(acked.todos), len(acked.todos) + report.uncertain
    if not low <= total <= high:
        report.failures.append(
            f"list {list_id} holds {total} todos; acknowledged {low}"
            + (f" (+ up to {report.uncertain} uncertain)" if report.uncertain else "")
        )
    ids = set(await _list_ids(client, list_id))
    missing = set(acked.todos) - ids
    if missing:
        report.failures.append(f"acknowledged todos not listed: {sorted(missing)[:10]}")
    unexpected = ids - set(acked.todos) - acked.maybe_deleted
    if len(unexpected) > acked.uncertain_creates:
        report.failures.append(f"unacknowledged todos listed: {sorted(unexpected)[:10]}")


async def _verify(
    client: httpx.AsyncClient, report: Report, states: list[ClientState], concurrency: int
) -> None:
    acked = _merge(states)
    report.expected_in_list = len(acked.todos)
    report.uncertain = acked.uncertain_creates + len(acked.maybe_deleted)
    await _check_todos(client, report, acked, concurrency)
    await _check_list(client, report, acked, report.list_id or 0)


# --- a run ---------------------------------------------------------------------------------


@contextmanager
def _quiet_http_client_logs() -> Iterator[None]:
    """The HTTP client's loggers at WARNING for the run, as they were afterwards."""
    loggers = [logging.getLogger(name) for name in HTTP_CLIENT_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def run(
    url: str,
    clients: int,
    duration: float,
    *,
    seed: int | None = None,
    keep: bool = False,
    progress: TextIO | None = None,
    request_timeout: float = 30.0,
    token: str | None = None,
) -> Report:
    report = Report(url=url, clients=clients, duration_s=duration)
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    # An access token of the account to load (AUTH=on); none for AUTH=off.
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with _quiet_http_client_logs():
        async with httpx.AsyncClient(
            base_url=url, limits=limits, timeout=request_timeout, headers=headers
        ) as c:
            name = f"loadtest-{uuid.uuid4().hex[:12]}"
            response = await c.post("/api/lists", json={"name": name})
            response.raise_for_status()
            report.list_id = list_id = response.json()["id"]
            rec = Recorder()
            workers = [
                Worker(c, rec, ClientState(), list_id, random.Random(rng.random()), f"{name}/{i}")
                for i in range(clients)
            ]
            _summarise(report, rec, await _load(workers, rec, duration, progress))
            states = [w.state for w in workers]
            report.created = sum(len(s.todos) + len(s.deleted) for s in states)
            report.deleted = sum(len(s.deleted) for s in states)
            await _verify(c, report, states, max(clients, 4))
            if not keep:
                await c.delete(f"/api/lists/{list_id}")
    return report


async def _load(
    workers: list[Worker], rec: Recorder, duration: float, progress: TextIO | None
) -> float:
    """Runs the workers for `duration` seconds, redrawing the progress line; the time taken."""
    start = time.monotonic()
    tasks = [asyncio.create_task(_client(w, start + duration)) for w in workers]
    ticker = asyncio.create_task(_progress(rec, start, duration, progress)) if progress else None
    try:
        await asyncio.gather(*tasks)
    finally:
        if ticker and progress:
            ticker.cancel()
            progress.write("\n")
    return time.monotonic() - start


def _summarise(report: Report, rec: Recorder, elapsed: float) -> None:
    values = rec.all_sorted()
    report.requests = rec.count
    report.duration_s = round(elapsed, 3)
    report.rps = rec.count / elapsed if elapsed else 0.0
    report.latency_ms = {f"p{q}": round(percentile(values, q) * 1000, 2) for q in (50, 90, 99)} | {
        "max": round(values[-1] * 1000, 2) if values else 0.0
    }
    for op, lat in rec.latencies.items():
        lat = sorted(lat)
        report.by_operation[op] = {
            "requests": len(lat),
            "p50_ms": round(percentile(lat, 50) * 1000, 2),
            "p99_ms": round(percentile(lat, 99) * 1000, 2),
        }
    report.statuses = dict(sorted(rec.statuses.items()))
    report.errors = dict(sorted(rec.errors.items()))


async def _progress(rec: Recorder, start: float, duration: float, out: TextIO) -> None:
    last_count, last_time = 0, start
    while True:
        await asyncio.sleep(0.5)  # refresh rate of the progress line
        now = time.monotonic()
        rate = (rec.count - last_count) / (now - last_time)
        last_count, last_time = rec.count, now
        errors = sum(rec.errors.values())
        out.write(
            f"\r[{min(now - start, duration):5.1f}/{duration:g}s] {rec.count} requests, "
            f"{rate:7.0f} req/s, {errors} errors   "
        )
        out.flush()


def format_report(report: Report) -> str:
    lines = [
        f"{report.requests} requests in {report.duration_s:.1f} s with {report.clients} "
        f"clients: {report.rps:.0f} req/s",
        "latency ms: " + ", ".join(f"{k} {v:.1f}" for k, v in report.latency_ms.items()),
        "by operation: "
        + ", ".join(
            f"{op} {d['requests']} (p50 {d['p50_ms']:.1f}, p99 {d['p99_ms']:.1f})"
            for op, d in report.by_operation.items()
        ),
        "statuses: " + ", ".join(f"{k}: {v}" for k, v in report.statuses.items()),
        "errors: " + (", ".join(f"{k}: {v}" for k, v in report.errors.items()) or "none"),
        f"list {report.list_id}: {report.created} created, {report.deleted} deleted, "
        f"{report.expected_in_list} expected, {report.listed} listed, "
        f"{report.uncertain} uncertain; {report.verified_todos} todos verified",
    ]
    if report.failures:
        lines.append(f"VERIFICATION FAILED ({len(report.failures)}):")
        lines += [f"  {f}" for f in report.failures[:20]]
    else:
        lines.append("verification: OK")
    return "\n".join(lines)


def main(args: Any) -> int:
    report = asyncio.run(
        run(
            args.url.rstrip("/"),
            args.clients,
            args.duration,
            seed=args.seed,
            keep=args.keep,
            progress=sys.stderr,
            token=args.token,
        )
    )
    print(report.to_json() if args.json else format_report(report))
    return 0 if report.ok else 1
