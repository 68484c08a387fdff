"""Accounts over HTTP: sign-up, sign-in and sign-out (/api/auth/*, reachable without
credentials), and the signed-in user's own account (/api/me).

Sign-in and sign-up are rate-limited per username and per client address (data/ratelimits.py);
their errors never say whether a username exists, except the 409 of a sign-up with a taken
name, which cannot be avoided; that one is rate-limited like a failed sign-in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from quart import Blueprint, Response, current_app, g, request

from ..data import credentials, db, ratelimits, users
from ..domain import passwords
from ..domain.actor import NOBODY, current
from ..domain.schemas import AccountDeletion, Login, PasswordChange, Signup, UserOut
from ..edge import auth as edge
from ..edge.jsonio import json_response
from ..edge.problems import Problem
from ..runtime.config import Settings
from . import validation
from .common import answers

bp = Blueprint("auth", __name__, url_prefix="/api")
# GET /api/me answers in both modes (the implicit user in AUTH=off: how the web app knows).
me_bp = Blueprint("me", __name__, url_prefix="/api")

T = TypeVar("T")
WRONG = "Wrong username or password."


def client_key() -> str:
    """The rate-limit key of the client's address. An IPv6 client usually owns a whole /64,
    so that is one key. Behind a reverse proxy named in FORWARDED_ALLOW_IPS this is the
    client's address (edge/hosts.py); behind another, the proxy's: then the per-username
    limit still holds, and the per-address one covers the proxy as a whole."""
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return f"addr:{request.remote_addr}"
    if address.version == 6:
        return f"addr:{ipaddress.ip_network((address, 64), strict=False)}"
    return f"addr:{address}"


async def limited(username: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a sign-in / sign-up attempt under the rate limits: 429 + Retry-After beyond them.
    `attempt` raises a Problem when it fails (which then counts), returns when it succeeds."""
    user_key = f"user:{username.lower()}"
    async with db.transaction(NOBODY) as work:
        reserved, wait = await ratelimits.reserve(work, [user_key, client_key()])
    if not reserved:
        raise Problem(
            429,
            "too-many-attempts",
            "Too many failed attempts; wait a while before trying again.",
            headers={"Retry-After": str(wait)},
        )
    result = await attempt()
    async with db.transaction(NOBODY) as work:
        await ratelimits.release(work, reserved)
        await ratelimits.forget(work, user_key)
    return result


def refuse_common(password: str, pointer: str) -> None:
    """422 for one of the most common passwords (the length rules are in the schemas)."""
    if passwords.is_common(password):
        raise Problem(
            422,
            "validation-error",
            "This password is one of the most common ones; choose another.",
            [{"pointer": pointer, "detail": "too common"}],
        )


def _signed_in(user: Any, secret: str, status: int) -> Response:
    response = json_response({"id": user["id"], "username": user["username"]}, status)
    edge.set_session_cookie(response, secret)
    return response


async def _end_presented_session() -> None:
    """Signing in always starts a new session: whatever session the browser presented
    ends (no session fixation: an id planted before sign-in is worth nothing after)."""
    secret = request.cookies.get(edge.COOKIE)
    if secret:
        key = credentials.digest(secret)
        async with db.statement(NOBODY) as work:
            await credentials.end_session(work, key)
        edge.cache().drop(("session", key))


@bp.post("/auth/signup")
@validation.body(Signup)
@answers(UserOut, 400, 403, 409, 415, 422, 429, 503, status=201)
async def signup(data: Signup) -> Response:
    """Create an account and sign in: 201 with a session cookie."""
    settings: Settings = current_app.extensions["settings"]
    if settings.signup != "open":
        raise Problem(403, "signup-closed", "Sign-up is closed here; ask the administrator.")

    async def attempt() -> tuple[Any, str]:
        refuse_common(data.password, "/password")
        password_hash = await passwords.hash_password(data.password)
        async with db.transaction(NOBODY) as work:
            user = await users.create(work, data.username, password_hash)
            return user, await credentials.start_session(work, user["id"])

    await _end_presented_session()
    user, secret = await limited(data.username, attempt)
    return _signed_in(user, secret, 201)


@bp.post("/auth/login")
@validation.body(Login)
@answers(UserOut, 400, 401, 415, 422, 429, 503)
async def login(data: Login) -> Response:
    """Sign in: a new session cookie ("Wrong username or password." otherwise)."""

    async def attempt() -> tuple[Any, str]:
        async with db.statement(NOBODY) as work:
            user = await users.by_name(work, data.username)
        stored = user["password_hash"] if user is not None else None
        if not await passwords.verify(stored, data.password):
            raise Problem(401, "unauthorized", WRONG)
        async with db.transaction(NOBODY) as work:
            if stored and passwords.needs_rehash(stored):
                new_hash = await passwords.hash_password(data.password)
                await users.set_password(work, user["id"], new_hash, end_sessions=False)
            return user, await credentials.start_session(work, user["id"])

    await _end_presented_session()
    user, secret = await limited(data.username, attempt)
    return _signed_in(user, secret, 200)


@bp.post("/auth/logout")
@answers(None, 503, status=204)
async def logout() -> Response:
    """Ends this browser's session (if any) and clears its cookie; always 204."""
    await _end_presented_session()
    response = Response(status=204)
    edge.clear_session_cookie(response)
    return response


@me_bp.get("/me")
@answers(UserOut, 401, 503)
async def me() -> Response:
    """Who is signed in (the implicit user, without a username, with AUTH=off)."""
    async with db.statement() as work:
        user = await users.by_id(work, current().user_id)
    if user is None:  # deleted a moment ago, still in another process's cache
        raise edge.unauthorized()
    response = json_response({"id": user["id"], "username": user["username"]})
    secret = request.cookies.get(edge.COOKIE)
    if g.get("session") and secret:
        edge.set_session_cookie(response, secret)  # the browser keeps it as long as we do
    return response


@bp.delete("/me/sessions")
@answers(None, 401, 503, status=204)
async def sign_out_everywhere() -> Response:
    """Every session of the caller ends, this one included (tokens stay)."""
    user_id = current().user_id
    async with db.statement() as work:
        await credentials.end_sessions(work, user_id)
    edge.cache().drop_user(user_id)
    response = Response(status=204)
    edge.clear_session_cookie(response)
    return response


async def _check_password(password: str) -> Any:
    """The caller's account if `password` is theirs (rate-limited like a sign-in), else 403."""
    async with db.statement() as work:
        user = await users.by_id(work, current().user_id)
    assert user is not None

    async def attempt() -> None:
        async with db.statement(NOBODY) as work:
            found = await users.by_name(work, user["username"])
        if not await passwords.verify(found["password_hash"] if found else None, password):
            raise Problem(403, "wrong-password", "That is not your current password.")

    await limited(user["username"], attempt)
    return user


@bp.put("/me/password")
@validation.body(PasswordChange)
@answers(UserOut, 400, 401, 403, 415, 422, 429, 503)
async def change_password(data: PasswordChange) -> Response:
    """New password; every session ends and this browser gets a new one (tokens stay)."""
    user = await _check_password(data.current_password)
    refuse_common(data.new_password, "/new_password")
    new_hash = await passwords.hash_password(data.new_password)
    async with db.transaction() as work:
        await users.set_password(work, user["id"], new_hash)
        secret = await credentials.start_session(work, user["id"])
    edge.cache().drop_user(user["id"])
    return _signed_in(user, secret, 200)


@bp.delete("/me")
@validation.body(AccountDeletion)
@answers(None, 400, 401, 403, 415, 422, 429, 503, status=204)
async def delete_account(data: AccountDeletion) -> Response:
    """The account and everything it owns go, in one transaction; its memberships in
    others' lists too."""
    user = await _check_password(data.password)
    async with db.transaction() as work:
        await users.delete_account(work, user["id"])
    edge.cache().drop_user(user["id"])
    response = Response(status=204)
    edge.clear_session_cookie(response)
    return response
