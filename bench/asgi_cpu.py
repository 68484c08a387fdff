"""CPU per request of the app itself, without an HTTP server or client: requests go straight
into the ASGI callable, and the process's CPU time is divided by their number.

    DATABASE_URL=... .venv/bin/python bench/asgi_cpu.py [--requests 3000] [--concurrency 16]
        [--auth off|token|session] [--loop uvloop|asyncio]
    (without DATABASE_URL: the embedded PostgreSQL in TODOAPP_DATA_DIR)

CPU time, unlike req/s, hardly moves when other jobs share the machine: this is the number
to compare hot-path changes with (PostgreSQL's own CPU is not in it). The tables are reset
to the benchmark's 10,000 todos in one list first. --auth picks who asks: `off` (AUTH=off,
the implicit user), `token` (AUTH=on, an access token as a bearer token) or `session`
(AUTH=on, the session cookie, with the Origin header the web app's writes carry). The event
loop is uvloop, as under `todoapp serve`, unless --loop asyncio.

THIS DROPS EVERY ACCOUNT AND LIST of the database it runs on: use a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson

ROWS = 10_000
SECRET = "tdo_bench-secret-0123456789"  # both the token's and the session's secret
RESET = f"""
TRUNCATE todos, todo_lists, users, sessions, access_tokens, list_members, idempotency_keys
    RESTART IDENTITY CASCADE;
INSERT INTO users (id, username) VALUES (0, NULL), (1, 'bench');
INSERT INTO todo_lists (name, owner_id, last_position) VALUES ('Inbox', :owner, {ROWS});
INSERT INTO access_tokens (user_id, name, secret_hash) VALUES (1, 'bench', :secret_hash);
INSERT INTO sessions (user_id, secret_hash) VALUES (1, :secret_hash);
INSERT INTO todos (id, list_id, title, completed, position, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT g, 1, 'todo ' || g, g % 3 = 0, g,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'
FROM generate_series(1, {ROWS}) AS g;
SELECT setval(pg_get_serial_sequence('todos', 'id'), {ROWS});
"""


CREDENTIALS: list[tuple[bytes, bytes]] = []  # set from --auth in main()


def scope(method: str, path: str, query: bytes = b"", body: bool = False) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), *CREDENTIALS]
    if body:
        headers.append((b"content-type", b"application/json"))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }


async def call(app: Any, sc: dict[str, Any], body: bytes = b"") -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # a client that never disconnects
        return {}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(sc, receive, send)
    return status


def scenarios(rng: random.Random) -> dict[str, Callable[[], tuple[dict[str, Any], bytes]]]:
    return {
        "list": lambda: (scope("GET", "/api/todos", b"limit=50"), b""),
        "get": lambda: (scope("GET", f"/api/todos/{rng.randint(1, ROWS)}"), b""),
        "create": lambda: (scope("POST", "/api/todos", body=True), b'{"title":"bench"}'),
        "toggle": lambda: (
            scope("PATCH", f"/api/todos/{rng.randint(1, ROWS)}", body=True),
            orjson.dumps({"completed": rng.random() < 0.5}),
        ),
    }


async def main(args: argparse.Namespace) -> None:
    from asgi_lifespan import LifespanManager
    from sqlalchemy import text

    from backend import create_app
    from backend.data.credentials import digest
    from backend.edge.auth import COOKIE
    from backend.runtime import migrate
    from backend.runtime.cli import resolve_database
    from backend.runtime.config import Settings

    try:
        from backend.runtime.servers import tune_gc
    except ImportError:  # a tree from before it (PYTHONPATH=<older checkout>)
        tune_gc = None

    settings = resolve_database(Settings.from_env())
    settings = replace(settings, auth="off" if args.auth == "off" else "on")
    CREDENTIALS[:] = {
        "off": [],
        "token": [(b"authorization", f"Bearer {SECRET}".encode())],
        "session": [
            (b"cookie", f"{COOKIE}={SECRET}".encode()),
            (b"origin", b"http://127.0.0.1:8000"),
        ],
    }[args.auth]
    await asyncio.to_thread(migrate.upgrade, settings.database_url or "")
    app = create_app(settings)
    if tune_gc is not None:
        tune_gc()  # as `todoapp serve` does in every worker, once the app is loaded
    async with LifespanManager(app):
        engine = app.extensions["db_engine"]
        params = {"owner": 0 if args.auth == "off" else 1, "secret_hash": digest(SECRET)}
        async with engine.begin() as conn:
            for statement in RESET.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement), params)
        rng = random.Random(1)
        for name, make in scenarios(rng).items():
            if args.only and name not in args.only.split(","):
                continue
            statuses: dict[int, int] = {}

            async def worker(n: int, make: Any = make, statuses: dict = statuses) -> None:
                for _ in range(n):
                    sc, body = make()
                    st = await call(app, sc, body)
                    statuses[st] = statuses.get(st, 0) + 1

            await asyncio.gather(*(worker(50) for _ in range(args.concurrency)))  # warm-up
            statuses.clear()
            per = args.requests // args.concurrency
            c0, t0 = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker(per) for _ in range(args.concurrency)))
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            n = per * args.concurrency
            print(
                f"{name:<7} {1e6 * cpu / n:7.0f} us CPU/request  {n / wall:7.0f} req/s in-process"
                f"  statuses {statuses}",
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", help="comma-separated subset of list,get,create,toggle")
    parser.add_argument("--auth", choices=("off", "token", "session"), default="off")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main(args))
    else:
        asyncio.run(main(args))
