"""The ASGI application each server worker loads (`todoapp serve`; DATABASE_URL must be set)."""

from . import create_app

app = create_app()
