"""Passwords: Argon2id hashes (argon2-cffi), computed off the event loop, and the rules a new
password must pass. A password is never logged, stored or returned; only its hash is kept.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults: Argon2id, RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes).
# About 0.2-0.4 s on this project's slow cores: in a worker thread, so other requests go on.
_hasher = PasswordHasher()

COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt"


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so that a sign-in takes about
    as long whether or not the account exists."""
    return _hasher.hash("not the password of anybody")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash (None: unknown user, always False, after
    the same work as a real check)."""
    return await asyncio.to_thread(_verify, stored, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's (then re-hash it)."""
    return _hasher.check_needs_rehash(stored)


@cache
def _common() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    """One of the 1,000 most common passwords long enough to pass the length rule."""
    return password.lower() in _common()
