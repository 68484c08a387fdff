"""The JSON API: one blueprint per resource, all under /api."""

from quart import Quart

from . import auth, events, lists, members, todos, tokens
from .common import IdConverter


def init_app(app: Quart, *, accounts: bool) -> None:
    """Register the resources; with accounts on (AUTH=on), also sign-up/sign-in, tokens and
    sharing, which mean nothing for the one implicit user of AUTH=off."""
    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(todos.bp)
    app.register_blueprint(lists.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(auth.me_bp)
    if accounts:
        app.register_blueprint(auth.bp)
        app.register_blueprint(tokens.bp)
        app.register_blueprint(members.bp)
