"""`todoapp users create|list|set-password|delete|claim`: accounts from the command line."""

from __future__ import annotations

import os

import httpx
from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .test_cli import run
from .users import SAME_ORIGIN


def env_for(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url}


async def sign_in(app: Quart, username: str, password: str) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        body = {"username": username, "password": password}
        return (await c.post("/api/auth/login", json=body, headers=SAME_ORIGIN)).status_code


async def test_create_list_set_password_delete(
    app: Quart, database_url: str, clean_db: AsyncEngine
) -> None:
    env = env_for(database_url)
    created = run(["users", "create", "dora"], env, stdin="dora's first secret\n")
    assert created.returncode == 0, created.stderr
    assert "created user dora" in created.stdout
    assert await sign_in(app, "dora", "dora's first secret") == 200

    for args, stdin, why in [
        (["users", "create", "DORA"], "another long secret\n", "is taken"),
        (["users", "create", "no"], "another long secret\n", "3 to 40"),
        (["users", "create", "eve"], "short\n", "10 to 1000"),
        (["users", "create", "eve"], "qwertyuiop\n", "most common"),
        (["users", "set-password", "nobody"], "another long secret\n", "no user named"),
    ]:
        refused = run(args, env, stdin=stdin)
        assert refused.returncode == 1, args
        assert why in refused.stderr, refused.stderr

    listed = run(["users", "list"], env)
    assert [line.split()[1] for line in listed.stdout.splitlines()[1:]] == ["alice", "dora"]

    changed = run(["users", "set-password", "dora"], env, stdin="dora's second secret\n")
    assert changed.returncode == 0, changed.stderr
    assert await sign_in(app, "dora", "dora's first secret") == 401
    assert await sign_in(app, "dora", "dora's second secret") == 200

    assert run(["users", "delete", "dora"], env).returncode == 1  # asks; no terminal: refuses
    deleted = run(["users", "delete", "dora", "--yes"], env)
    assert deleted.returncode == 0, deleted.stderr
    async with clean_db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM users"))).scalar() == 2


async def test_claim_hands_the_implicit_users_lists_over(
    database_url: str, clean_db: AsyncEngine
) -> None:
    async with clean_db.begin() as conn:
        await conn.execute(
            text("INSERT INTO todo_lists (name, owner_id) VALUES ('Inbox', 0), ('Old', 0)")
        )
    claimed = run(["users", "claim", "alice"], env_for(database_url))
    assert claimed.returncode == 0, claimed.stderr
    assert "2 lists of the implicit user now belong to alice" in claimed.stdout
    async with clean_db.connect() as conn:
        rows = await conn.execute(text("SELECT name, owner_id FROM todo_lists ORDER BY id"))
        # alice had an Inbox already: the claimed one keeps its todos under another name.
        assert [tuple(r) for r in rows] == [("Inbox", 1), ("Inbox (2)", 1), ("Old", 1)]
