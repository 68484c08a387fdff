"""`todoapp loadtest`: a small load generator that also checks the answers it got.

N clients run a mixed workload for S seconds against a list of their own (created at the
start, deleted at the end unless --keep): create, read, toggle, rename, delete todos and read
the list. Every client remembers what the server acknowledged for its own todos, so at the
end the run verifies that

* every acknowledged create is readable, with the last acknowledged `completed` and title;
* no acknowledged delete is still readable;
* the list's counts (and, where the API pages through it, its ids) match what was created.

A request whose outcome is unknown (5xx, connection error) makes the todo it touched
"uncertain": it is not checked, and the totals allow for it. Throughput, latency percentiles
and statuses are printed; the exit status is 1 when verification fails.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

import httpx

# (operation, weight): roughly a UI session, reads outnumbering writes.
MIX = (
    ("list", 20),
    ("get", 25),
    ("create", 25),
    ("toggle", 18),
    ("rename", 7),
    ("delete", 5),
)
VERIFY_RETRIES = 5


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
        self.latencies: dict[str, list[float]] = {op: [] for op, _ in MIX}
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


async def _request(
    client: httpx.AsyncClient, rec: Recorder, op: str, method: str, url: str, **kw: Any
) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response = await client.request(method, url, **kw)
    except httpx.HTTPError as error:
        rec.record(op, time.perf_counter() - start, None, type(error).__name__)
        return None
    rec.record(op, time.perf_counter() - start, response.status_code)
    return response


def _unknown_outcome(response: httpx.Response | None) -> bool:
    # A 4xx was refused (nothing changed); a 5xx or no answer may or may not have applied.
    return response is None or response.status_code >= 500


async def _client(
    client: httpx.AsyncClient,
    rec: Recorder,
    state: ClientState,
    list_id: int,
    deadline: float,
    rng: random.Random,
    name: str,
) -> None:
    ops = [op for op, _ in MIX]
    weights = [w for _, w in MIX]
    serial = 0
    while time.monotonic() < deadline:
        op = rng.choices(ops, weights)[0]
        live = list(state.todos)
        if not live and op != "list":
            op = "create"
        if op == "create":
            serial += 1
            title = f"{name} todo {serial}"
            r = await _request(
                client, rec, op, "POST", "/api/todos", json={"title": title, "list_id": list_id}
            )
            if r is not None and r.status_code == 201:
                state.todos[r.json()["id"]] = Expected(False, title)
            elif _unknown_outcome(r):
                state.uncertain_creates += 1
        elif op == "list":
            await _request(client, rec, op, "GET", f"/api/todos?list_id={list_id}&limit=50")
        elif op == "get":
            todo_id = rng.choice(live)
            await _request(client, rec, op, "GET", f"/api/todos/{todo_id}")
        elif op == "toggle":
            todo_id = rng.choice(live)
            value = rng.random() < 0.5
            r = await _request(
                client, rec, op, "PATCH", f"/api/todos/{todo_id}", json={"completed": value}
            )
            if r is not None and r.status_code == 200:
                state.todos[todo_id].completed = value
            elif _unknown_outcome(r):
                state.todos[todo_id].completed = None
        elif op == "rename":
            todo_id = rng.choice(live)
            serial += 1
            title = f"{name} renamed {serial}"
            r = await _request(
                client, rec, op, "PATCH", f"/api/todos/{todo_id}", json={"title": title}
            )
            if r is not None and r.status_code == 200:
                state.todos[todo_id].title = title
            elif _unknown_outcome(r):
                state.todos[todo_id].title = None
        elif op == "delete":
            todo_id = rng.choice(live)
            r = await _request(client, rec, op, "DELETE", f"/api/todos/{todo_id}")
            if r is not None and r.status_code == 204:
                del state.todos[todo_id]
                state.deleted.add(todo_id)
            elif _unknown_outcome(r):
                del state.todos[todo_id]
                state.maybe_deleted.add(todo_id)


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


async def _list_ids(client: httpx.AsyncClient, list_id: int) -> list[int] | None:
    """All todo ids of the list, following Link rel="next" pages where the API has them;
    None if the list is longer than one page and the API cannot page."""
    limit = 1000
    url: str | None = f"/api/todos?list_id={list_id}&limit={limit}"
    ids: list[int] = []
    while url:
        response = await _get_retrying(client, url)
        response.raise_for_status()
        page = response.json()
        items = page["items"] if isinstance(page, dict) and "items" in page else page
        ids += [item["id"] for item in items]
        url = response.links.get("next", {}).get("url")
        if url is None and len(items) >= limit:
            return None
    return ids


async def _verify(
    client: httpx.AsyncClient, report: Report, states: list[ClientState], concurrency: int
) -> None:
    known: dict[int, Expected] = {}
    deleted: set[int] = set()
    maybe_deleted: set[int] = set()
    uncertain_creates = 0
    for state in states:
        known.update(state.todos)
        deleted |= state.deleted
        maybe_deleted |= state.maybe_deleted
        uncertain_creates += state.uncertain_creates
    report.expected_in_list = len(known)
    report.uncertain = uncertain_creates + len(maybe_deleted)
    gate = asyncio.Semaphore(concurrency)

    async def check(todo_id: int, expected: Expected | None) -> None:
        async with gate:
            response = await _get_retrying(client, f"/api/todos/{todo_id}")
        if expected is None:  # acknowledged delete
            if response.status_code != 404:
                report.failures.append(f"deleted todo {todo_id}: GET {response.status_code}")
            return
        if response.status_code != 200:
            report.failures.append(f"acknowledged todo {todo_id}: GET {response.status_code}")
            return
        body = response.json()
        if expected.completed is not None and body["completed"] != expected.completed:
            report.failures.append(
                f"todo {todo_id}: completed={body['completed']}, acknowledged {expected.completed}"
            )
        if expected.title is not None and body["title"] != expected.title:
            report.failures.append(
                f"todo {todo_id}: title {body['title']!r}, acknowledged {expected.title!r}"
            )
        report.verified_todos += 1

    await asyncio.gather(
        *(check(i, e) for i, e in known.items()), *(check(i, None) for i in deleted)
    )

    response = await _get_retrying(client, f"/api/lists/{report.list_id}")
    if response.status_code != 200:
        report.failures.append(f"list {report.list_id}: GET {response.status_code}")
        return
    counts = response.json()
    total = counts["active_count"] + counts["completed_count"]
    report.listed = total
    low, high = len(known), len(known) + report.uncertain
    if not low <= total <= high:
        report.failures.append(
            f"list {report.list_id} holds {total} todos; acknowledged {low}"
            + (f" (+ up to {report.uncertain} uncertain)" if report.uncertain else "")
        )
    ids = await _list_ids(client, report.list_id or 0)
    if ids is not None:
        missing = set(known) - set(ids)
        if missing:
            report.failures.append(f"acknowledged todos not listed: {sorted(missing)[:10]}")
        unexpected = set(ids) - set(known) - maybe_deleted
        if len(unexpected) > uncertain_creates:
            report.failures.append(f"unacknowledged todos listed: {sorted(unexpected)[:10]}")


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
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=request_timeout, headers=headers
    ) as client:
        name = f"loadtest-{uuid.uuid4().hex[:12]}"
        response = await client.post("/api/lists", json={"name": name})
        response.raise_for_status()
        report.list_id = response.json()["id"]
        rec = Recorder()
        states = [ClientState() for _ in range(clients)]
        start = time.monotonic()
        deadline = start + duration
        workers = [
            asyncio.create_task(
                _client(
                    client,
                    rec,
                    states[i],
                    report.list_id,
                    deadline,
                    random.Random(rng.random()),
                    f"{name}/{i}",
                )
            )
            for i in range(clients)
        ]
        ticker = (
            asyncio.create_task(_progress(rec, start, duration, progress)) if progress else None
        )
        try:
            await asyncio.gather(*workers)
        finally:
            if ticker:
                ticker.cancel()
                progress.write("\n")  # type: ignore[union-attr]
        elapsed = time.monotonic() - start
        _summarise(report, rec, elapsed)
        report.created = sum(len(s.todos) + len(s.deleted) for s in states)
        report.deleted = sum(len(s.deleted) for s in states)
        await _verify(client, report, states, max(clients, 4))
        if not keep:
            await client.delete(f"/api/lists/{report.list_id}")
    return report


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
