"""Sessions (the web app's cookie) and personal access tokens (scripts): random secrets of
which only a SHA-256 hash is stored, so a copy of the database lets nobody sign in.

A fast hash is right here, unlike for passwords: the secrets are 256 random bits, so there
is nothing to guess, and the look-up runs on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, insert, or_, select, update

from . import Row
from .db import Work
from .models import AccessToken, Session

sessions = Session.__table__
tokens = AccessToken.__table__

SESSION_IDLE = timedelta(days=30)  # a session unused this long has ended
# last_seen_at / last_used_at are written at most this often per credential, not on every
# request (a write per request would cost more than the request).
SESSION_TOUCH_EVERY = timedelta(hours=1)
TOKEN_TOUCH_EVERY = timedelta(minutes=1)
TOKEN_PREFIX = "tdo_"  # recognisable in a leaked file (secret scanners)


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


# --- sessions ------------------------------------------------------------------------------


async def start_session(work: Work, user_id: int) -> str:
    """A new session for the user; returns its secret (for the cookie)."""
    secret = new_secret()
    await work.run(insert(sessions).values(secret_hash=digest(secret), user_id=user_id))
    return secret


async def session_user(work: Work, secret_hash: bytes) -> int | None:
    """The user of a live session (None: unknown or idle too long), noting that it was seen
    (at most once per SESSION_TOUCH_EVERY) in the same statement."""
    live = (
        select(sessions.c.secret_hash, sessions.c.user_id, sessions.c.last_seen_at)
        .where(
            sessions.c.secret_hash == secret_hash,
            sessions.c.last_seen_at > func.now() - SESSION_IDLE,
        )
        .cte("live")
    )
    touch = (
        update(sessions)
        .where(
            sessions.c.secret_hash == live.c.secret_hash,
            live.c.last_seen_at < func.now() - SESSION_TOUCH_EVERY,
        )
        .values(last_seen_at=func.now())
        .cte("touch")
    )
    return await work.scalar(select(live.c.user_id).add_cte(touch))


async def end_session(work: Work, secret_hash: bytes) -> None:
    await work.run(delete(sessions).where(sessions.c.secret_hash == secret_hash))


async def end_sessions(work: Work, user_id: int) -> int:
    """Sign the user out everywhere: every session of theirs ends."""
    return await work.rowcount(delete(sessions).where(sessions.c.user_id == user_id))


# --- personal access tokens -----------------------------------------------------------------

TOKEN_COLUMNS = (tokens.c.id, tokens.c.name, tokens.c.created_at, tokens.c.last_used_at)


async def create_token(work: Work, name: str) -> tuple[Row, str]:
    """A new token of the actor's; returns its row and its secret (shown once)."""
    secret = new_secret(TOKEN_PREFIX)
    stmt = (
        insert(tokens)
        .values(user_id=work.actor.user_id, name=name, secret_hash=digest(secret))
        .returning(*TOKEN_COLUMNS)
    )
    row = await work.row(stmt)
    assert row is not None
    return row, secret


async def token_user(work: Work, secret_hash: bytes) -> int | None:
    """The user of a token (None: unknown or revoked), noting its use (at most once per
    TOKEN_TOUCH_EVERY) in the same statement."""
    found = (
        select(tokens.c.id, tokens.c.user_id, tokens.c.last_used_at)
        .where(tokens.c.secret_hash == secret_hash)
        .cte("found")
    )
    stale = or_(
        found.c.last_used_at.is_(None), found.c.last_used_at < func.now() - TOKEN_TOUCH_EVERY
    )
    touch = (
        update(tokens)
        .where(tokens.c.id == found.c.id, stale)
        .values(last_used_at=func.now())
        .cte("touch")
    )
    return await work.scalar(select(found.c.user_id).add_cte(touch))


async def list_tokens(work: Work) -> Sequence[Row]:
    stmt = select(*TOKEN_COLUMNS).where(tokens.c.user_id == work.actor.user_id)
    return await work.rows(stmt.order_by(tokens.c.id))


async def revoke_token(work: Work, token_id: int) -> bytes | None:
    """Delete one of the actor's tokens; its hash (to drop it from caches), or None if the
    actor has no such token."""
    stmt = (
        delete(tokens)
        .where(tokens.c.id == token_id, tokens.c.user_id == work.actor.user_id)
        .returning(tokens.c.secret_hash)
    )
    return await work.scalar(stmt)
