"""With several worker processes, /metrics sums all of them (prometheus multiprocess mode,
set up by `todoapp serve`), whichever worker answers the scrape."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from .servers import samples

ROUTE = "/api/todos/<id:todo_id>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_two_workers_report_one_sum(database_url: str, clean_db: object) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(DATABASE_URL=database_url, DB_POOL_SIZE="3", LOG_LEVEL="WARNING")
    todoapp = Path(sys.executable).with_name("todoapp")
    proc = subprocess.Popen(
        [str(todoapp), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            # A starting server has nothing to wait on but its socket: poll it (bounded).
            for _ in range(600):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, "server exited"
                await asyncio.sleep(0.1)
            # Fresh connections, so the requests are spread over both workers.
            for _ in range(20):
                async with httpx.AsyncClient(base_url=base, timeout=10) as one:
                    assert (await one.get("/api/todos/424242")).status_code == 404
            for _ in range(5):
                async with httpx.AsyncClient(base_url=base, timeout=10) as one:
                    metrics = samples((await one.get("/metrics")).text)
                key = (
                    "todoapp_http_requests_total",
                    (("method", "GET"), ("route", ROUTE), ("status", "404")),
                )
                assert metrics[key] == 20
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 30)
