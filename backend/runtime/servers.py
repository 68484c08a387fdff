"""The HTTP servers `todoapp serve` can run the app on (SERVER / --server).

All three load `backend.asgi:app` in each worker process (each with its own engine and pool)
and use uvloop where available. Which one is the default, and why, is measured in
docs/benchmarks.md.
"""

from __future__ import annotations

import sys

from .config import Settings

APP = "backend.asgi:app"
SERVERS = ("hypercorn", "uvicorn", "granian")
UVLOOP = sys.platform != "win32"


def run(name: str, settings: Settings) -> int:
    if name not in SERVERS:
        raise SystemExit(f"unknown server {name!r}: choose one of {', '.join(SERVERS)}")
    print(
        f"todoapp serving on http://{settings.host}:{settings.port} "
        f"({name}, {settings.workers} worker{'s' if settings.workers > 1 else ''})",
        flush=True,
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
        workers_kill_timeout=10,
    ).serve()
    return 0
