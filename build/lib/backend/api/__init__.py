"""The JSON API: one blueprint per resource, all under /api."""

from quart import Quart

from . import lists, todos


def init_app(app: Quart) -> None:
    app.register_blueprint(todos.bp)
    app.register_blueprint(lists.bp)
