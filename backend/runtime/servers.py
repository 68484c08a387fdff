"""The HTTP servers `todoapp serve` can run the app on (SERVER / --server).

All three load `backend.asgi:app` in each worker process (each with its own engine and pool)
and use uvloop where available. Which one is the default, and why, is measured in
docs/benchmarks.md.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from ..edge import requestid
from .config import Settings

log = logging.getLogger("todoapp")

APP = "backend.asgi:app"
SERVERS = ("hypercorn", "uvicorn", "granian")
UVLOOP = sys.platform != "win32"


def run(name: str, settings: Settings) -> int:
    if name not in SERVERS:
        raise SystemExit(f"unknown server {name!r}: choose one of {', '.join(SERVERS)}")
    # A log line, not a print: with LOG_FORMAT=json every line of output is JSON.
    log.info(
        "todoapp serving on http://%s:%s (%s, %s worker%s)",
        settings.host,
        settings.port,
        name,
        settings.workers,
        "s" if settings.workers > 1 else "",
    )
    return {"hypercorn": _hypercorn, "uvicorn": _uvicorn, "granian": _granian}[name](settings)


def _hypercorn(settings: Settings) -> int:
    from hypercorn.config import Config
    from hypercorn.run import run

    config = Config()
    config.application_path = APP
    config.bind = [f"{settings.host}:{settings.port}"]
    # workers=0 runs the server in this process: Ctrl-C drains it, then the embedded server
    # stops at exit. More workers are spawned processes with their own engine and pool.
    config.workers = settings.workers if settings.workers > 1 else 0
    config.worker_class = "uvloop" if UVLOOP else "asyncio"
    config.graceful_timeout = 10
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = settings.log_level
    return run(config)


def _uvicorn(settings: Settings) -> int:
    try:
        import uvicorn
    except ImportError as error:  # an optional extra
        raise SystemExit("SERVER=uvicorn needs `pip install todoapp[servers]`") from error
    uvicorn.run(
        APP,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        loop="uvloop" if UVLOOP else "asyncio",
        http="httptools",
        access_log=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
        lifespan="on",
    )
    return 0


def _granian(settings: Settings) -> int:
    try:
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces, Loops
        from granian.log import LogLevels
    except ImportError as error:
        raise SystemExit("SERVER=granian needs `pip install todoapp[servers]`") from error
    Granian(
        APP,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=max(settings.workers, 1),
        # One Rust runtime thread per worker: the Python side is the bottleneck, and with
        # 2 cores shared with PostgreSQL extra threads only add contention.
        runtime_threads=1,
        loop=Loops.uvloop if UVLOOP else Loops.asyncio,
        http=HTTPModes.http1,
        websockets=False,
        log_access=False,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=granian_log_config(settings.log_format),
        workers_kill_timeout=10,
    ).serve()
    return 0


def granian_log_config(log_format: str) -> dict[str, Any]:
    """Granian's own lines (its Rust core logs to `_granian.*`) in our format, at LOG_LEVEL
    (granian sets the level), without the noise. Granian replaces its defaults key by key."""
    config = requestid.server_log_config(log_format)
    config["loggers"] = {
        name: {"handlers": ["todoapp"], "propagate": False}
        for name in ("_granian", "granian.access")
    }
    return config
