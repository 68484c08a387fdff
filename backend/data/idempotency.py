"""Stored Idempotency-Key answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from . import Row
from .models import IdempotencyKey

KEEP_FOR = timedelta(hours=24)


async def claim(session: AsyncSession, scope: str, key: str, fingerprint: str) -> Row | None:
    """Claim the key for this request (None), or return what an earlier request stored.

    If another transaction holds the same key uncommitted, the INSERT waits for it to end:
    then we either see its stored answer (it committed) or claim the key (it rolled back).
    """
    claimed = (
        await session.execute(
            insert(IdempotencyKey)
            .values(scope=scope, key=key, fingerprint=fingerprint)
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        )
    ).first()
    if claimed is not None:
        return None
    stmt = select(
        IdempotencyKey.fingerprint,
        IdempotencyKey.status,
        IdempotencyKey.body,
        IdempotencyKey.location,
    ).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    return (await session.execute(stmt)).mappings().one()


async def save(
    session: AsyncSession, scope: str, key: str, *, status: int, body: str, location: str | None
) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(status=status, body=body, location=location)
    )


async def purge_expired(session: AsyncSession) -> int:
    stmt = delete(IdempotencyKey).where(IdempotencyKey.created_at < func.now() - KEEP_FOR)
    return (await session.execute(stmt)).rowcount
