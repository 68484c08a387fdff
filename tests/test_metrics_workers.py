"""With several worker processes, /metrics sums all of them (prometheus multiprocess mode,
set up by `todoapp serve`), whichever worker answers the scrape."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from .servers import free_port, samples, server
from .users import AUTH_HEADERS

ROUTE = "/api/todos/<id:todo_id>"


async def test_two_workers_report_one_sum(
    database_url: str, clean_db: object, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        DATABASE_URL=database_url, DB_POOL_SIZE="3", PORT=str(port), TMPDIR=str(tmp_path), AUTH="on"
    )
    base = f"http://127.0.0.1:{port}"
    with server(["serve", "--workers", "2"], env) as proc:
        # Fresh connections, so the requests are spread over the workers.
        for _ in range(20):
            async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH_HEADERS) as one:
                assert (await one.get("/api/todos/424242")).status_code == 404
        key = (
            "todoapp_http_requests_total",
            (("method", "GET"), ("route", ROUTE), ("status", "404")),
        )
        for _ in range(5):  # whichever worker answers, it reports the sum
            async with httpx.AsyncClient(base_url=base, timeout=10) as one:
                metrics = samples((await one.get("/metrics")).text)
            assert metrics[key] == 20
        assert next(tmp_path.iterdir()).name.startswith("todoapp-metrics-")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    assert list(tmp_path.iterdir()) == []  # the samples' folder goes with the server
