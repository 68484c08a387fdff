"""The server stopped under write load, gently (SIGTERM) and not (SIGKILL of every process),
then restarted: every write it acknowledged (201) is in the database afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Callable

import httpx
import psutil
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .servers import Server, exited, free_port, server, until

WRITERS = 16
BETWEEN_FAULTS = 150  # acknowledged writes before each fault, and after the last restart


@pytest.fixture
def inbox_owner() -> int:
    return 0  # AUTH=off servers: list 1 is the implicit user's Inbox


class WriteLoad:
    """Clients creating todos without pause; a client whose server went away waits until
    the test has started the next one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acknowledged: list[int] = []
        self.outcomes: Counter[str] = Counter()
        self.up = asyncio.Event()
        self.stop = asyncio.Event()

    async def writer(self, n: int) -> None:
        limits = httpx.Limits(max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=self.url, timeout=30, limits=limits) as http:
            while not self.stop.is_set():
                await self.up.wait()
                try:
                    r = await http.post("/api/todos", json={"title": f"w{n}"})
                except httpx.TransportError:
                    self.outcomes["no answer"] += 1
                    continue
                self.outcomes[str(r.status_code)] += 1
                if r.status_code == 201:
                    self.acknowledged.append(r.json()["id"])

    def more_than(self, n: int) -> Callable[[], bool]:
        target = len(self.acknowledged) + n
        return lambda: len(self.acknowledged) >= target


async def stop_server(proc: Server, how: signal.Signals, load: WriteLoad) -> int:
    """Returns the main process's exit code once every process of the server is gone (so
    the next one can have the port)."""
    load.up.clear()  # writers that fail from now on wait for the restart
    workers = [child.pid for child in psutil.Process(proc.pid).children()]
    if how == signal.SIGKILL:
        os.killpg(proc.pid, signal.SIGKILL)  # main process and workers: a crash
    else:
        proc.send_signal(how)
    code = await asyncio.to_thread(proc.wait, 60)
    await until(lambda: all(map(exited, workers)), "the workers are gone")
    return code


async def test_acknowledged_writes_survive_sigterm_and_sigkill(
    database_url: str, clean_db: AsyncEngine
) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "WORKERS": "2"}
    env["AUTH"] = "off"  # the implicit user's writes (its Inbox is list 1: inbox_owner)
    load = WriteLoad(f"http://127.0.0.1:{port}")
    writers = [asyncio.create_task(load.writer(n)) for n in range(WRITERS)]
    exits = []
    try:
        for fault in (signal.SIGTERM, signal.SIGKILL, None):
            with server(["serve"], env) as proc:
                load.up.set()
                await until(load.more_than(BETWEEN_FAULTS), "writes acknowledged", 120)
                if fault is not None:
                    exits.append(await stop_server(proc, fault, load))
    finally:
        load.stop.set()
        load.up.set()
        await asyncio.gather(*writers)

    async with clean_db.connect() as conn:
        found = (
            await conn.execute(
                text("SELECT count(*) FROM todos WHERE id = ANY(:ids)"),
                {"ids": load.acknowledged},
            )
        ).scalar()
    print(
        f"\nserver faults under write load: {len(load.acknowledged)} acknowledged, "
        f"{found} found; outcomes {dict(load.outcomes)}; exit codes {exits}"
    )
    assert exits == [0, -signal.SIGKILL]  # SIGTERM drained and exited cleanly
    assert found == len(load.acknowledged)
    assert set(load.outcomes) <= {"201", "503", "no answer"}
