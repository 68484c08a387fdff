"""/healthz (the process answers) and /readyz (database reachable and schema at head)."""

from __future__ import annotations

from quart import Blueprint, Quart, Response
from sqlalchemy import text

from ..api.common import answers
from ..data import db
from ..domain.schemas import Health, Ready
from ..runtime.migrate import head_revision
from .jsonio import json_response
from .problems import Problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@answers(Health)
async def healthz() -> Response:
    """Liveness: the process answers (it does not ask the database)."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
@answers(Ready, 503)
async def readyz() -> Response:
    """Readiness: the database answers and its schema is at the migrations' head."""
    async with db.engine().connect() as conn:
        # to_regclass: an unmigrated database has no version table yet (not an error).
        has_table = (await conn.execute(text("SELECT to_regclass('alembic_version')"))).scalar()
        current = (
            (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            if has_table
            else None
        )
    head = head_revision()
    if current != head:
        raise Problem(
            503,
            "unavailable",
            f"The database schema is at {current}, not at {head}: migrations have not run.",
            headers={"Retry-After": "5"},
        )
    return json_response({"status": "ready", "revision": current})


def init_app(app: Quart) -> None:
    app.register_blueprint(bp)
