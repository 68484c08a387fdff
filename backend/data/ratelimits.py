"""Rate limits on sign-in and sign-up, counted in PostgreSQL so that every worker process
(and every replica) sees the same counts.

An attempt first reserves a failure under each of its keys ("user:alice", "addr:192.0.2.1"),
atomically with the check that the keys are under their limit; a success takes its
reservation back. So attempts still running count too: a burst of concurrent guesses cannot
slip past the limit while the passwords are being checked.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from .db import Work
from .models import AuthFailure

failures = AuthFailure.__table__

LIMIT = 10  # failures per key within WINDOW
WINDOW = timedelta(minutes=15)
_LOCK_CLASS = 0x2A7E  # pg_advisory_xact_lock(class, hashtext(key)): one checker per key
PURGE_ONE_IN = 50  # about one reservation in this many deletes every expired failure


async def reserve(work: Work, keys: Sequence[str]) -> tuple[list[int], int]:
    """Reserve a failure under each key (a transaction). Returns the reservation's ids, or
    ([], seconds until the busiest key is under its limit again) when one is at it."""
    for key in sorted(set(keys)):  # in one order: two attempts never wait on each other
        await work.run(select(func.pg_advisory_xact_lock(_LOCK_CLASS, func.hashtext(key))))
    recent = failures.c.at > func.now() - WINDOW
    stmt = (
        select(failures.c.key, func.count(), func.min(failures.c.at), func.now())
        .where(failures.c.key.in_(keys), recent)
        .group_by(failures.c.key)
    )
    wait = 0.0
    for _key, count, oldest, now in await work.run(stmt):
        if count >= LIMIT:
            wait = max(wait, (oldest + WINDOW - now).total_seconds())
    if wait > 0:
        return [], max(1, math.ceil(wait))
    if random.randrange(PURGE_ONE_IN) == 0:
        await work.run(delete(failures).where(failures.c.at < func.now() - WINDOW))
    ids = await work.run(insert(failures).returning(failures.c.id), [{"key": k} for k in keys])
    return list(ids.scalars()), 0


async def release(work: Work, ids: Sequence[int]) -> None:
    """The attempt succeeded: its reservation is not a failure."""
    await work.run(delete(failures).where(failures.c.id.in_(ids)))


async def forget(work: Work, key: str) -> None:
    """Clear a key's failures (a user who signed in has proven who they are)."""
    await work.run(delete(failures).where(failures.c.key == key))
