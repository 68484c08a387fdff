"""Authenticated requests in the shared harness, whose wrk scripts and probes send no headers.

    BENCH_TOKEN=tdo_... DATABASE_URL=... python bench/harness_auth.py setup
    BENCH_TOKEN=tdo_... DATABASE_URL=... PYTHONPATH=bench python bench/harness_auth.py \
        serve --port N

`setup` migrates, creates the account `bench` (the first account: it takes over the Inbox
the migrations made, which the harness's reset script fills) and an access token whose
secret is BENCH_TOKEN. `serve` is `todoapp serve` with one ASGI layer outside the whole app
that adds `Authorization: Bearer <BENCH_TOKEN>` to every request sent without credentials,
as a script using the token would send it. Everything behind that layer (the token's
look-up and its cache, the scoping of every statement by the user) runs as for that client;
the layer itself costs a list copy per request. bench/run.sh uses both.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
USER, PASSWORD = "bench", "bench-password-not-secret-0123"


def _header() -> tuple[bytes, bytes]:
    return (b"authorization", b"Bearer " + os.environ["BENCH_TOKEN"].encode())


def wrap(todoapp: Any) -> Any:
    header = _header()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not any(
            name in (b"authorization", b"cookie") for name, _ in scope["headers"]
        ):
            scope = {**scope, "headers": [*scope["headers"], header]}
        await todoapp(scope, receive, send)

    return app


def __getattr__(name: str) -> Any:
    # `harness_auth:app`, loaded by each server worker: todoapp's app behind the layer.
    if name == "app":
        from backend.asgi import app as todoapp

        globals()["app"] = wrapped = wrap(todoapp)
        return wrapped
    raise AttributeError(name)


async def _add_token() -> None:
    import asyncpg

    from backend.data.credentials import digest
    from backend.runtime.config import Settings

    url = Settings.from_env().database_url or ""
    conn = await asyncpg.connect("postgresql://" + url.partition("://")[2])
    try:
        await conn.execute(
            "INSERT INTO access_tokens (user_id, name, secret_hash)"
            " SELECT id, 'bench', $1 FROM users WHERE username = $2",
            digest(os.environ["BENCH_TOKEN"]),
            USER,
        )
    finally:
        await conn.close()


def setup() -> int:
    todoapp = str(BIN / "todoapp")
    subprocess.run([todoapp, "db", "upgrade", "head"], check=True)
    subprocess.run([todoapp, "users", "create", USER], input=PASSWORD + "\n", text=True, check=True)
    asyncio.run(_add_token())
    return 0


def serve(argv: list[str]) -> int:
    from backend.runtime import cli, servers

    servers.APP = "harness_auth:app"
    return cli.main(["serve", *argv])


if __name__ == "__main__":
    command, *rest = sys.argv[1:] or ["-h"]
    if command == "setup":
        raise SystemExit(setup())
    if command == "serve":
        raise SystemExit(serve(rest))
    raise SystemExit(__doc__)
