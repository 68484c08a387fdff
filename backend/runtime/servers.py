"""The HTTP server `todoapp serve` runs the app on: granian (Rust HTTP, a uvloop event loop
per worker process). Why granian, measured against the alternatives: docs/benchmarks.md.

Every worker loads `backend.asgi:app`, so each has its own engine and pool, then tunes its
garbage collector (`tune_gc`). Two things granian does not do on its own, done here:

- Own the port or fail: granian's workers each bind it with SO_REUSEPORT, so a second
  server on a port in use would start beside the first and take half its connections.
  `ensure_port_free` binds without SO_REUSEPORT first and stops with "address already in use".
- Workers die with their parent: granian has no option for it, so each worker asks the
  kernel (Linux PR_SET_PDEATHSIG) to kill it when the main process dies, even by kill -9.
  SIGKILL, not SIGTERM (a worker's graceful stop): granian loses a SIGTERM that arrives
  while a worker is still starting, and that worker then serves on with nobody to stop it.
  A server whose main process was killed has crashed; its workers go the same way.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import importlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from granian import Granian
from granian.constants import HTTPModes, Interfaces, Loops
from granian.log import LogLevels

from ..edge import requestid
from .config import Settings

log = logging.getLogger("todoapp")

APP = "backend.asgi:app"
UVLOOP = sys.platform != "win32"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def ensure_port_free(host: str, port: int) -> None:
    """Exit at once if something listens on host:port already (see the module docstring)."""
    try:
        # create_server sets SO_REUSEADDR (so TIME_WAIT leftovers don't count) but not
        # SO_REUSEPORT, which is what makes a live listener a conflict.
        socket.create_server((host, port)).close()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            message = f"todoapp: cannot listen on {host}:{port}: address already in use"
            raise SystemExit(message) from None
        raise


def run(settings: Settings) -> int:
    # A log line, not a print: with LOG_FORMAT=json every line of output is JSON.
    log.info(
        "todoapp serving on http://%s:%s (granian, %s worker%s)",
        settings.host,
        settings.port,
        settings.workers,
        "s" if settings.workers > 1 else "",
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
        # Connections a worker serves at once (granian's default: 1024 / workers). Event
        # streams hold theirs for as long as they last, so: room for MAX_STREAMS of them
        # beside MAX_IN_FLIGHT requests; past those, the app answers 503 itself.
        backpressure=settings.max_streams + (settings.max_in_flight or 1024),
        websockets=False,
        log_access=False,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=granian_log_config(settings.log_format),
        workers_kill_timeout=10,
    ).serve(target_loader=partial(_load_in_worker, os.getpid()))
    return 0


def _load_in_worker(parent: int, target: str) -> Callable[..., Any]:
    """granian calls this in each worker to load the app: first tie the worker's life to
    its parent's (workers are started from the main thread, whose exit is what the kernel
    watches; the main thread lives as long as the server)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the line above: no signal
            os.kill(os.getpid(), signal.SIGKILL)
    module, _, name = target.partition(":")
    app = getattr(importlib.import_module(module), name)
    tune_gc()
    return app


# Young objects the cyclic garbage collector lets pile up before it looks (Python's
# default: 700). See tune_gc.
GC_YOUNG_THRESHOLD = 10_000


def tune_gc() -> None:
    """Once the app is loaded: what the garbage collector costs a request, from ~25-50 µs of
    CPU (a small GET, a page of 50) to ~3-6 µs (bench/asgi_cpu.py; docs/benchmarks.md).

    Why: a request allocates hundreds of objects, so Python's default threshold ran a young
    collection every ~40 requests and, now and then, a full one over every object of the
    process (~90 ms: a pause for every request in flight). Frozen, the objects of the
    loaded code (over 100,000) are never scanned again; with a higher threshold the young
    collections come ~14 times less often, and find what they found before: nearly every
    object of a request is freed by its reference count, without the collector."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def granian_log_config(log_format: str) -> dict[str, Any]:
    """Granian's own lines (its Rust core logs to `_granian.*`) in our format, at LOG_LEVEL
    (granian sets the level), without the noise. Granian replaces its defaults key by key."""
    config = requestid.server_log_config(log_format)
    config["loggers"] = {
        name: {"handlers": ["todoapp"], "propagate": False}
        for name in ("_granian", "granian.access")
    }
    return config
