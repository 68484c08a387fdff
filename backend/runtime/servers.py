"""The HTTP server `todoapp serve` runs the app on: granian (Rust HTTP, a uvloop event loop
per worker process). Why granian, measured against the alternatives: docs/benchmarks.md.

Every worker loads `backend.asgi:app`, so each has its own engine and pool.
"""

from __future__ import annotations

import sys

from granian import Granian
from granian.constants import HTTPModes, Interfaces, Loops

from .config import Settings

APP = "backend.asgi:app"
UVLOOP = sys.platform != "win32"


def run(settings: Settings) -> int:
    print(
        f"todoapp serving on http://{settings.host}:{settings.port} "
        f"(granian, {settings.workers} worker{'s' if settings.workers > 1 else ''})",
        flush=True,
    )
    Granian(
        APP,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=max(settings.workers, 1),
        # One Rust runtime thread per worker: the Python side is the bottleneck, and extra
        # threads only contend with PostgreSQL for the same cores.
        runtime_threads=1,
        loop=Loops.uvloop if UVLOOP else Loops.asyncio,
        http=HTTPModes.http1,
        websockets=False,
        log_access=False,
        workers_kill_timeout=10,
    ).serve()
    return 0
