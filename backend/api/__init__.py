"""The JSON API: one blueprint per resource, all under /api."""

from quart import Quart

from . import events, lists, todos
from .common import IdConverter


def init_app(app: Quart) -> None:
    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(todos.bp)
    app.register_blueprint(lists.bp)
    app.register_blueprint(events.bp)
