"""A bounded overload against a live server with a tiny pool and a low in-flight cap:
about 4x the concurrency it can sustain, for a fixed number of requests.

The server must keep answering (2xx, or 503 with Retry-After), never 500, lose no
acknowledged write, and serve normally once the burst is over."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import replace

import httpx
from sqlalchemy import text

from backend.runtime.config import Settings

from .servers import live_app
from .users import AUTH_HEADERS

CAP = 8  # requests in flight per server: the concurrency it is allowed to sustain
CLIENTS = 4 * CAP
REQUESTS_PER_CLIENT = 20


async def test_overload_sheds_load_keeps_writes_and_recovers(
    settings: Settings, clean_db: object
) -> None:
    small = replace(settings, db_pool_size=2, db_pool_timeout=0.25, max_in_flight=CAP)
    statuses: Counter[int] = Counter()
    missing_retry_after = 0
    acknowledged: list[int] = []

    async with live_app(small) as (_, url):
        limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
        async with httpx.AsyncClient(
            base_url=url, limits=limits, timeout=30, headers=AUTH_HEADERS
        ) as http:

            async def client(seed: int) -> None:
                nonlocal missing_retry_after
                rng = random.Random(seed)
                mine: list[int] = []
                for n in range(REQUESTS_PER_CLIENT):
                    roll = rng.random()
                    if roll < 0.5 or not mine:
                        r = await http.post("/api/todos", json={"title": f"c{seed} #{n}"})
                        if r.status_code == 201:
                            mine.append(r.json()["id"])
                    elif roll < 0.75:
                        r = await http.get("/api/todos?limit=50")
                    else:
                        r = await http.patch(
                            f"/api/todos/{rng.choice(mine)}", json={"completed": True}
                        )
                    statuses[r.status_code] += 1
                    if r.status_code == 503 and "retry-after" not in r.headers:
                        missing_retry_after += 1
                acknowledged.extend(mine)

            # A bound on the whole burst, not an expectation about its speed.
            async with asyncio.timeout(300):
                await asyncio.gather(*(client(i) for i in range(CLIENTS)))

            assert sum(statuses.values()) == CLIENTS * REQUESTS_PER_CLIENT
            assert set(statuses) <= {200, 201, 503}, statuses
            assert statuses[503] > 0, "the burst never overloaded the server"
            assert missing_retry_after == 0
            assert acknowledged, statuses

            # Recovery: plain sequential use works again.
            for n in range(10):
                created = await http.post("/api/todos", json={"title": f"after {n}"})
                assert created.status_code == 201
                acknowledged.append(created.json()["id"])
                assert (await http.get(f"/api/todos/{created.json()['id']}")).status_code == 200

    async with clean_db.connect() as conn:  # type: ignore[attr-defined]
        stored = set((await conn.execute(text("SELECT id FROM todos"))).scalars())
    assert set(acknowledged) <= stored  # every 201 was committed
