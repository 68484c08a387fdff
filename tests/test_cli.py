"""The `todoapp` command as a user (or the container's entrypoint) runs it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from importlib.metadata import version
from pathlib import Path

import asyncpg
import httpx

from . import pg
from .servers import TODOAPP, free_port, server


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        TODOAPP + args, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


async def first_account(base: str, env: dict[str, str]) -> dict[str, str]:
    """The documented way in with SIGNUP=closed: `todoapp users create`, then sign in and
    make an access token. Returns the headers a script then sends."""
    created = run(["users", "create", "admin"], env, stdin="the admin's long secret\n")
    assert created.returncode == 0, created.stderr
    origin = {"Origin": base}
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=origin) as browser:
        body = {"username": "admin", "password": "the admin's long secret"}
        assert (await browser.post("/api/auth/login", json=body)).status_code == 200
        token = (await browser.post("/api/tokens", json={"name": "script"})).json()["token"]
    return {"Authorization": f"Bearer {token}"}


async def test_entrypoint_migrates_serves_and_drains_on_sigterm(pg_server: str) -> None:
    """What the container runs: `todoapp serve --host 0.0.0.0` on a fresh database, given
    the URL and the password apart as compose gives them (a password that breaks a URL
    pasted by hand survives migration and the workers), with accounts on and sign-up closed,
    the first account made with `todoapp users create`. SIGTERM lets a request that is in
    flight finish (its write is kept), then exits 0."""
    with pg.scratch_database(pg_server, "entry") as url:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DATABASE_PASSWORD": "p@ss:w/rd#1?%20",
            "PORT": str(port),
            "AUTH": "on",
            "SIGNUP": "closed",
        }
        with server(["serve", "--host", "0.0.0.0"], env) as proc:
            base = f"http://127.0.0.1:{port}"
            headers = await first_account(base, env)
            async with httpx.AsyncClient(base_url=base, timeout=30, headers=headers) as client:
                assert (await client.get("/readyz")).status_code == 200
                todo = (await client.post("/api/todos", json={"title": "in flight"})).json()

                db = await asyncpg.connect(pg.plain(url))
                tx = db.transaction()
                await tx.start()
                await db.execute("SELECT 1 FROM todos WHERE id = $1 FOR UPDATE", todo["id"])
                patch = client.patch(todo["url"], json={"completed": True})
                task = asyncio.create_task(patch)
                await wait_until_blocked(db)
                proc.send_signal(signal.SIGTERM)
                await tx.rollback()  # release the row: the request completes during the drain
                response = await task
                assert response.status_code == 200
                assert response.json()["completed"] is True
                await db.close()
            assert await asyncio.to_thread(proc.wait, 30) == 0
        conn = await asyncpg.connect(pg.plain(url))
        assert await conn.fetchval("SELECT completed FROM todos WHERE id = $1", todo["id"])
        await conn.close()


async def wait_until_blocked(db: asyncpg.Connection) -> None:
    """Until the server's UPDATE waits on our row lock (each check is a round trip)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'todoapp' "
            "AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
    raise AssertionError("the request never reached the database")


async def test_embedded_server_keeps_data_across_ctrl_c_and_restart(tmp_path: Path) -> None:
    """With DATABASE_URL unset: an embedded PostgreSQL in TODOAPP_DATA_DIR; Ctrl-C stops both
    servers, and the next start finds the data."""
    # Unset in containers and CI: platformdirs warns about it, and that is not the user's
    # problem (embedded.py quiets it).
    skip = ("DATABASE_URL", "XDG_RUNTIME_DIR")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    port = free_port()
    env.update(TODOAPP_DATA_DIR=str(tmp_path / "data"), PORT=str(port), AUTH="off")
    base = f"http://127.0.0.1:{port}"
    for round_ in ("first", "second"):
        with server(["serve"], env) as proc:
            async with httpx.AsyncClient(base_url=base) as client:
                if round_ == "first":
                    created = await client.post("/api/todos", json={"title": "survives"})
                    assert created.status_code == 201
                titles = [t["title"] for t in (await client.get("/api/todos")).json()]
                assert titles == ["survives"]
            assert "Warning" not in "".join(proc.log)
            proc.send_signal(signal.SIGINT)
            assert await asyncio.to_thread(proc.wait, 60) == 0
        # The embedded server stopped with the app: no postmaster left behind.
        assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists()


async def test_db_commands_and_idempotent_seed(pg_server: str) -> None:
    with pg.scratch_database(pg_server, "cli") as url:
        env = {**os.environ, "DATABASE_URL": url}
        assert run(["db", "upgrade", "head"], env).returncode == 0
        current = run(["db", "current"], env)
        assert "(head)" in current.stdout
        assert "-> 0001" in run(["db", "history"], env).stdout

        first = run(["seed"], env)
        assert first.returncode == 0, first.stderr
        assert "seeded: 3 new lists" in first.stdout
        assert run(["seed"], env).stdout.strip() == "seed data already present"
        conn = await asyncpg.connect(pg.plain(url))
        try:
            counts = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM todo_lists), (SELECT count(*) FROM todos)"
            )
        finally:
            await conn.close()
        assert tuple(counts) == (4, 8)

        assert run(["db", "downgrade", "base"], env).returncode == 0
        assert "(head)" not in run(["db", "current"], env).stdout


def test_db_help_usage_and_errors_start_no_database(tmp_path: Path) -> None:
    """Alembic's help, its usage and its argument errors answer at once: the embedded
    PostgreSQL (DATABASE_URL unset) is never started for them."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["TODOAPP_DATA_DIR"] = str(tmp_path / "data")
    for flag in ("--help", "-h"):
        result = run(["db", flag], env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: todoapp db")
        assert "upgrade" in result.stdout
    bare = run(["db"], env)
    assert bare.returncode == 2
    assert bare.stdout.startswith("usage: todoapp db")
    wrong = run(["db", "--no-such-option"], env)
    assert wrong.returncode == 2
    assert "unrecognized arguments: --no-such-option" in wrong.stderr
    assert not (tmp_path / "data").exists()  # no database was started


def test_version() -> None:
    result = run(["--version"], dict(os.environ))
    assert result.returncode == 0
    assert result.stdout.strip() == f"todoapp {version('todoapp')}"
