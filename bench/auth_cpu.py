"""What authentication costs: CPU per request with an access token and with the session
cookie, against AUTH=off, in one process (the asgi_cpu.py method: requests go straight into
the ASGI app, and the process's CPU time is divided by their number).

    DATABASE_URL=postgresql://.../scratch .venv/bin/python bench/auth_cpu.py \
        [--batch 200] [--rounds 10]

Two apps share one database: one with AUTH=off (the implicit user's list of 10,000 todos)
and one with AUTH=on (the same for user "bench", whose requests carry a token or a session
cookie). The three ways take turns in small batches, so that a machine shared with other
jobs slows them alike; the medians of the batches are printed. PostgreSQL's CPU is not in
the numbers. THIS DROPS EVERY ACCOUNT AND LIST of the database it runs on.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from dataclasses import replace
from typing import Any

import orjson
from asgi_cpu import call, scope

ROWS = 10_000
TOKEN, SESSION = "tdo_bench-token-0123456789", "bench-session-0123456789"
RESET = f"""
TRUNCATE todos, todo_lists, users, sessions, access_tokens, list_members, idempotency_keys
    RESTART IDENTITY CASCADE;
INSERT INTO users (id, username) VALUES (0, NULL), (1, 'bench');
INSERT INTO todo_lists (name, owner_id, last_position)
    VALUES ('Inbox', 0, {ROWS}), ('Inbox', 1, {ROWS});
INSERT INTO access_tokens (user_id, name, secret_hash) VALUES (1, 'bench', :token);
INSERT INTO sessions (user_id, secret_hash) VALUES (1, :session);
INSERT INTO todos (list_id, title, completed, position)
SELECT l, 'todo ' || g, g % 3 = 0, g FROM generate_series(1, 2) l, generate_series(1, {ROWS}) g;
"""
WAYS = ("off", "token", "session")


def credentials(way: str) -> list[tuple[bytes, bytes]]:
    from backend.edge.auth import COOKIE

    return {
        "off": [],
        "token": [(b"authorization", f"Bearer {TOKEN}".encode())],
        "session": [
            (b"cookie", f"{COOKIE}={SESSION}".encode()),
            (b"origin", b"http://127.0.0.1:8000"),  # as the web app's writes carry it
        ],
    }[way]


def request(name: str, way: str, rng: random.Random) -> tuple[dict[str, Any], bytes]:
    """One request of scenario `name`; ids in the way's own list (off: 1-10,000)."""
    todo = rng.randint(1, ROWS) + (0 if way == "off" else ROWS)
    method, path, query, body = {
        "list": ("GET", "/api/todos", b"limit=50", b""),
        "get": ("GET", f"/api/todos/{todo}", b"", b""),
        "create": ("POST", "/api/todos", b"", b'{"title":"bench"}'),
        "toggle": ("PATCH", f"/api/todos/{todo}", b"", orjson.dumps({"completed": True})),
    }[name]
    sc = scope(method, path, query, body=bool(body))
    sc["headers"] = sc["headers"] + credentials(way)
    return sc, body


async def batch(app: Any, name: str, way: str, n: int, concurrency: int) -> float:
    """CPU seconds per request of n requests, `concurrency` at a time."""
    rng = random.Random(n)
    statuses: set[int] = set()

    async def worker(count: int) -> None:
        for _ in range(count):
            sc, body = request(name, way, rng)
            statuses.add(await call(app, sc, body))

    c0 = time.process_time()
    await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))
    assert statuses <= {200, 201}, (name, way, statuses)
    return (time.process_time() - c0) / (n // concurrency * concurrency)


async def main(args: argparse.Namespace) -> None:
    from asgi_lifespan import LifespanManager
    from sqlalchemy import text

    from backend import create_app
    from backend.data.credentials import digest
    from backend.edge import auth
    from backend.runtime import migrate
    from backend.runtime.cli import resolve_database
    from backend.runtime.config import Settings

    auth.CACHE_TTL = args.ttl  # 0: every request looks its credential up (the cache's worth)
    settings = resolve_database(Settings.from_env())
    await asyncio.to_thread(migrate.upgrade, settings.database_url or "")
    off, on = create_app(replace(settings, auth="off")), create_app(replace(settings, auth="on"))
    async with LifespanManager(off), LifespanManager(on):
        async with on.extensions["db_engine"].begin() as conn:
            for statement in RESET.split(";\n"):
                if statement.strip():
                    params = {"token": digest(TOKEN), "session": digest(SESSION)}
                    await conn.execute(text(statement), params)
        apps = {"off": off, "token": on, "session": on}
        print(f"{'':<7} {'off':>8} {'token':>8} {'session':>8}   (us CPU/request, medians)")
        for name in args.only.split(","):
            results: dict[str, list[float]] = {way: [] for way in WAYS}
            for way in WAYS:  # warm-up: plans, statement caches, the credential cache
                await batch(apps[way], name, way, args.batch, args.concurrency)
            for _ in range(args.rounds):
                for way in WAYS:
                    results[way].append(
                        await batch(apps[way], name, way, args.batch, args.concurrency)
                    )
            us = {way: 1e6 * statistics.median(values) for way, values in results.items()}
            print(
                f"{name:<7} {us['off']:>8.0f} {us['token']:>8.0f} {us['session']:>8.0f}"
                f"   token {100 * (us['token'] / us['off'] - 1):+.0f} %,"
                f" session {100 * (us['session'] / us['off'] - 1):+.0f} %",
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=200, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=10, help="batches per way")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", default="list,get,create,toggle")
    parser.add_argument(
        "--ttl", type=float, default=1.0, help="seconds a credential look-up is cached (0: none)"
    )
    asyncio.run(main(parser.parse_args()))
