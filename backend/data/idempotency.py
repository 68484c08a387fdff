"""Stored Idempotency-Key answers, per actor: one actor's key never replays another's answer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from . import Row
from .db import Work
from .models import IdempotencyKey

KEEP_FOR = timedelta(hours=24)


def _scope(work: Work, route: str) -> str:
    return f"{work.actor.key} {route}"


async def claim(work: Work, route: str, key: str, fingerprint: str) -> Row | None:
    """Claim the key for this request (None), or return what an earlier request stored.

    If another transaction holds the same key uncommitted, the INSERT waits for it to end:
    then we either see its stored answer (it committed) or claim the key (it rolled back).
    """
    scope = _scope(work, route)
    claimed = await work.row(
        insert(IdempotencyKey)
        .values(scope=scope, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if claimed is not None:
        return None
    stmt = select(
        IdempotencyKey.fingerprint,
        IdempotencyKey.status,
        IdempotencyKey.body,
        IdempotencyKey.location,
    ).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    return await work.row(stmt)


async def save(
    work: Work, route: str, key: str, *, status: int, body: str, location: str | None
) -> None:
    await work.run(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == _scope(work, route), IdempotencyKey.key == key)
        .values(status=status, body=body, location=location)
    )


async def purge_expired(work: Work) -> int:
    stmt = delete(IdempotencyKey).where(IdempotencyKey.created_at < func.now() - KEEP_FOR)
    return await work.rowcount(stmt)
