"""Live: the change feed each worker reads from PostgreSQL and fans out to its event streams
(GET /api/events in api/events.py).

One Feed per worker process, started with the worker and stopped with it. A graceful
shutdown (SIGTERM or SIGINT to the worker) ends every stream at once, so that clients
reconnect to another server instead of holding this one until it is killed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from quart import Quart, current_app

from ..runtime.config import Settings, asyncpg_url
from .feed import Feed
from .handoff import STREAM, Handoff

__all__ = ["STREAM", "feed", "hand_off_streams", "init_app"]

SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def init_app(app: Quart, settings: Settings) -> None:
    @app.before_serving
    async def start_feed() -> None:
        assert settings.database_url, "DATABASE_URL is resolved before the app is created"
        # asyncpg itself, not SQLAlchemy: its URL has no "+asyncpg".
        dsn = asyncpg_url(settings.database_url).replace("+asyncpg", "", 1)
        feed = Feed(dsn, settings)
        app.extensions["live_feed"] = feed
        feed.start()
        app.extensions["live_signals_undo"] = _end_streams_on_shutdown_signal(feed)

    @app.after_serving
    async def stop_feed() -> None:
        app.extensions.pop("live_signals_undo")()
        await app.extensions.pop("live_feed").close()


def hand_off_streams(app: Quart) -> None:
    """Install the outermost middleware: event streams' bodies run after their requests
    (handoff.py). Call it after every other ASGI middleware is in place."""
    app.asgi_app = Handoff(app.asgi_app)  # type: ignore[method-assign]


def feed() -> Feed:
    return current_app.extensions["live_feed"]


def _end_streams_on_shutdown_signal(feed: Feed) -> Callable[[], None]:
    """Chain a handler in front of the server's own: the server only stops once its open
    responses have ended, and an event stream never ends by itself. Returns the undo.

    The server (granian, Hypercorn) installed its handlers with loop.add_signal_handler
    before the app started. Python still calls the handler set with signal.signal (for such
    a loop, the loop's own), so calling that after ours keeps the server's behaviour."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may set signal handlers
    loop = asyncio.get_running_loop()
    installed = {}
    for sig in SHUTDOWN_SIGNALS:
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: Any, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(feed.end_streams)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:  # what would have happened without us
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        signal.signal(sig, handler)
        installed[sig] = (handler, previous)

    def undo() -> None:
        for sig, (handler, previous) in installed.items():
            if signal.getsignal(sig) is handler and previous is not None:
                signal.signal(sig, previous)

    return undo
