"""The ASGI application for servers: `hypercorn backend.asgi:app` (DATABASE_URL must be set)."""

from . import create_app

app = create_app()
