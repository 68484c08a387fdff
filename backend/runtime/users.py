"""`todoapp users create|list|set-password|delete|claim`: accounts from the command line.

With SIGNUP=closed this is the way in. Passwords are read from the terminal (twice, not
echoed) or, when stdin is not a terminal, from its first line (for scripts:
`printf '%s\\n' "$PW" | todoapp users create alice`). They pass the same rules as a sign-up.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from ..data import users
from ..data.db import Work, create_engine
from ..domain import passwords
from ..domain.actor import NOBODY
from ..domain.limits import PASSWORD_MAX, PASSWORD_MIN
from ..domain.schemas import USERNAME_PATTERN
from .config import Settings

T = TypeVar("T")


class Refused(Exception):
    """What the command refuses, in one line for the terminal (exit status 1)."""


def read_password(prompt: str = "Password") -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt} (again): ") != first:
            raise Refused("the two passwords differ")
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise Refused(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    if passwords.is_common(password):
        raise Refused("this password is one of the most common ones; choose another")
    return password


async def in_transaction(settings: Settings, work: Callable[[Work], Awaitable[T]]) -> T:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn, conn.begin():
            return await work(Work(conn, NOBODY))
    finally:
        await engine.dispose()


async def _user(work: Work, username: str) -> Any:
    user = await users.by_name(work, username)
    if user is None:
        raise Refused(f"there is no user named {username!r}")
    return user


async def user_id(settings: Settings, username: str) -> int:
    async def work(w: Work) -> int:
        return (await _user(w, username))["id"]

    return await in_transaction(settings, work)


def create(settings: Settings, args: argparse.Namespace) -> str:
    if not re.fullmatch(USERNAME_PATTERN, args.username):
        raise Refused("a username has 3 to 40 letters, digits, '.', '_' or '-'")
    password_hash = asyncio.run(passwords.hash_password(read_password()))

    async def work(w: Work) -> str:
        try:
            user = await users.create(w, args.username, password_hash)
        except IntegrityError:
            raise Refused(f"the username {args.username!r} is taken") from None
        return f"created user {user['username']} (id {user['id']})"

    return asyncio.run(in_transaction(settings, work))


def list_(settings: Settings, args: argparse.Namespace) -> str:
    async def work(w: Work) -> str:
        rows = await users.all_accounts(w)
        lines = [f"{'id':>5}  {'username':<40}  {'created':<19}  lists  sessions  tokens"]
        for r in rows:
            created = r["created_at"].strftime("%Y-%m-%d %H:%M:%S")
            lines.append(
                f"{r['id']:>5}  {r['username']:<40}  {created}  "
                f"{r['lists']:>5}  {r['sessions']:>8}  {r['tokens']:>6}"
            )
        return "\n".join(lines)

    return asyncio.run(in_transaction(settings, work))


def set_password(settings: Settings, args: argparse.Namespace) -> str:
    password_hash = asyncio.run(passwords.hash_password(read_password("New password")))

    async def work(w: Work) -> str:
        user = await _user(w, args.username)
        await users.set_password(w, user["id"], password_hash)
        return f"new password for {user['username']}; their sessions have ended"

    return asyncio.run(in_transaction(settings, work))


def delete(settings: Settings, args: argparse.Namespace) -> str:
    if not args.yes:
        if not sys.stdin.isatty():
            raise Refused("add --yes to delete without a question")
        answer = input(f"Delete {args.username} and all their lists and todos? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise Refused("nothing deleted")

    async def work(w: Work) -> str:
        user = await _user(w, args.username)
        await users.delete_account(w, user["id"])
        return f"deleted {user['username']} with their lists, todos, sessions and tokens"

    return asyncio.run(in_transaction(settings, work))


def claim(settings: Settings, args: argparse.Namespace) -> str:
    async def work(w: Work) -> str:
        user = await _user(w, args.username)
        moved = await users.claim(w, user["id"])
        lists = "list" if moved == 1 else "lists"
        return f"{moved} {lists} of the implicit user now belong to {user['username']}"

    return asyncio.run(in_transaction(settings, work))


ACTIONS: dict[str, Callable[[Settings, argparse.Namespace], str]] = {
    "create": create,
    "list": list_,
    "set-password": set_password,
    "delete": delete,
    "claim": claim,
}
